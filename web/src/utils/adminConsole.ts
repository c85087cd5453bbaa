/** The Payments and Codes panels' decisions, kept out of the pages so they can be tested. */
import type { AdminCode, CodeState, NotifyEntry, PaymentFailure } from '@/api/adminPayments'
import type { Order } from '@/api/types'

/** The longest reason the server takes. */
export const REASON_MAX = 200

/** A reason may be sent: 1..=200 characters once trimmed. */
export function reasonValid(reason: string): boolean {
  const r = reason.trim()
  return r.length > 0 && [...r].length <= REASON_MAX
}

/** Only a completed order can be refunded. */
export function refundable(order: Pick<Order, 'status'> | null): boolean {
  return order?.status === 'completed'
}

/** Open failures can be retried; resolved ones are done. */
export function retryable(f: Pick<PaymentFailure, 'resolved'>): boolean {
  return !f.resolved
}

/** A code can be disabled unless it was redeemed or is disabled already. */
export function disableable(c: Pick<AdminCode, 'state'>): boolean {
  return c.state !== 'redeemed' && c.state !== 'disabled'
}

export const CODE_STATES: CodeState[] = ['unsold', 'sold', 'redeemed', 'disabled', 'expired']

type TagType = 'default' | 'success' | 'info' | 'warning' | 'error'

/** The tag colour of a code's state. */
export function codeStateTag(state: CodeState): TagType {
  switch (state) {
    case 'unsold':
      return 'default'
    case 'sold':
      return 'info'
    case 'redeemed':
      return 'success'
    case 'expired':
      return 'warning'
    case 'disabled':
      return 'error'
  }
}

/** A notify's fields for a table: the ones that decide the payment first, then the rest by name. */
const FIRST = ['trade_status', 'out_trade_no', 'trade_no', 'total_amount', 'app_id', 'seller_id', 'notify_id', 'notify_time', 'gmt_payment']

export function notifyRows(n: Pick<NotifyEntry, 'fields'>): { name: string; value: string }[] {
  const names = Object.keys(n.fields)
  const first = FIRST.filter((k) => names.includes(k))
  const rest = names.filter((k) => !FIRST.includes(k)).sort()
  return [...first, ...rest].map((name) => ({ name, value: n.fields[name] ?? '' }))
}

/** An order id as typed: digits only, surrounding spaces dropped; null when it is not one. */
export function orderIdOf(text: string): string | null {
  const t = text.trim()
  return /^\d{1,20}$/.test(t) ? t : null
}

/** Saves a downloaded file through a temporary link. */
export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
