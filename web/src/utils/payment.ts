/** What the payment dialog shows for an order: its QR code only while the order can still be paid. */
import type { Order, OrderRefund } from '@/api/types'

export type PaymentOutcome = 'open' | 'completed' | 'closed' | 'invalid' | 'refunded'

export function paymentOutcome(order: Order | null): PaymentOutcome {
  if (!order) return 'open'
  switch (order.status) {
    case 'completed':
      return 'completed'
    case 'refunded':
      return 'refunded'
    case 'closed':
    case 'invalid':
      // A payment that came after the order closed was given back.
      return order.refund ? 'refunded' : order.status
    default:
      return 'open'
  }
}

/** The QR code and its link are offered only while the order is payable. */
export function showsQr(order: Order | null): boolean {
  return paymentOutcome(order) === 'open'
}

/**
 * Whether to keep asking for the order. A closed order is still watched: a payment made with
 * the QR code before it closed may yet complete it, or come back as a refund.
 */
export function keepsPolling(order: Order | null): boolean {
  const outcome = paymentOutcome(order)
  return outcome === 'open' || outcome === 'closed'
}

/** The refund to show: the recorded one, or the whole paid amount of an order refunded as such. */
export function shownRefund(order: Order | null): { amount: string; refunded_at: string | null } | null {
  if (!order || paymentOutcome(order) !== 'refunded') return null
  const r: OrderRefund | null | undefined = order.refund
  if (r) return { amount: r.amount, refunded_at: r.refunded_at }
  return { amount: order.pay_amount || order.total_amount, refunded_at: null }
}
