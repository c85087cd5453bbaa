/**
 * The operator console's Payments and Codes panels (role admin only): the payment-failure
 * queue, refunds, "reconcile now", an order's notify log; codes by state, disabling one and
 * the CSV of a product's unsold codes.
 */
import { pageOf, request, send } from './http'
import type { Order, Page } from './types'

export type FailureFilter = 'open' | 'resolved' | 'all'

export interface PaymentFailure {
  id: string
  order_id: string
  out_trade_no: string
  last_error: string
  attempts: number
  resolved: boolean
  resolved_at: string | null
  created_at: string
  updated_at: string
}

export interface TradeFinding {
  out_trade_no: string
  /** Alipay's trade_status, `TRADE_NOT_EXIST` or `UNKNOWN`. */
  trade_status: string
  outcome: 'fulfilled' | 'already_fulfilled' | 'refunded' | 'unknown_order' | null
}

export interface Reconciled {
  order: Order
  trades: TradeFinding[]
}

export interface NotifyEntry {
  id: string
  notify_id: string | null
  out_trade_no: string | null
  trade_no: string | null
  trade_status: string | null
  verified: boolean
  handed_over: boolean
  rejection_reason: string | null
  /** Every field as received; `sign` reads `[withheld]`. */
  fields: Record<string, string>
  received_at: string
}

export type CodeState = 'unsold' | 'sold' | 'redeemed' | 'disabled' | 'expired'

export interface AdminCode {
  id: string
  code: string
  product_id: string
  state: CodeState
  order_id: string | null
  owner_id: string | null
  redeemed_by: string | null
  expires_at: string | null
}

export interface CodeFilter {
  product_id: string | null
  state: CodeState | null
}

const id = (v: string) => encodeURIComponent(v.trim())

export async function listPaymentFailures(state: FailureFilter, cursor: string | null = null): Promise<Page<PaymentFailure>> {
  return pageOf(await request<Page<PaymentFailure>>('/api/admin/payment-failures', { query: { state, cursor } }))
}

export function retryPaymentFailure(failureId: string): Promise<PaymentFailure> {
  return request(`/api/admin/payment-failures/${id(failureId)}/retry`, { method: 'POST' })
}

export function refundOrder(orderId: string, reason: string): Promise<Order> {
  return request(`/api/admin/orders/${id(orderId)}/refund`, { method: 'POST', body: { reason: reason.trim() } })
}

export function reconcileOrder(orderId: string): Promise<Reconciled> {
  return request(`/api/admin/orders/${id(orderId)}/reconcile`, { method: 'POST' })
}

/** The order and the Alipay notifies logged for its trades, oldest first. */
export function orderNotifies(orderId: string): Promise<{ order: Order; items: NotifyEntry[] }> {
  return request(`/api/admin/orders/${id(orderId)}/notifies`)
}

export async function listCodes(filter: CodeFilter, cursor: string | null = null): Promise<Page<AdminCode>> {
  return pageOf(
    await request<Page<AdminCode>>('/api/admin/codes', {
      query: { product_id: filter.product_id, state: filter.state, cursor },
    }),
  )
}

export function disableCode(codeId: string, reason: string): Promise<AdminCode> {
  return request(`/api/admin/codes/${id(codeId)}/disable`, { method: 'POST', body: { reason: reason.trim() } })
}

/** The CSV of a product's codes in one state (unsold by default), with the file name the server gave. */
export async function exportCodes(productId: string, state: CodeState = 'unsold'): Promise<{ filename: string; blob: Blob }> {
  const res = await send('/api/admin/codes/export', {
    query: { product_id: productId, state },
    headers: { Accept: 'text/csv' },
  })
  const blob = await res.blob()
  return { filename: filenameOf(res.headers.get('Content-Disposition'), `codes-${productId}-${state}.csv`), blob }
}

/** The file name of a `Content-Disposition: attachment; filename="..."` header, or `fallback`. */
export function filenameOf(header: string | null, fallback: string): string {
  const m = header?.match(/filename="?([^";]+)"?/i)
  return m?.[1]?.trim() || fallback
}
