/** How My orders reads an order: whether it can still be paid or closed, and why it closed. */
import type { Order } from '@/api/types'

/** Not paid yet, whether or not its QR code has been shown: it can be paid or closed. */
export function isUnpaid(order: Order): boolean {
  return order.status === 'awaiting_payment' || order.status === 'awaiting_confirmation'
}

export type CloseReasonKey = 'buyer' | 'timeout' | 'refunded'

/** Why a closed order closed; a payment that came after it closed and went back says so first. */
export function closeReasonKey(order: Order): CloseReasonKey | null {
  if (order.status !== 'closed' && order.status !== 'invalid') return null
  if (order.refund) return 'refunded'
  return order.close_reason ?? null
}
