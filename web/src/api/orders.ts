/** Orders and payment (orders service). */
import { PAGE_SIZE, pageOf, request } from './http'
import type { CreateOrderRequest, Order, OrderStatus, Page, PayResponse } from './types'

/** A fresh key per attempt; crypto.randomUUID only exists in secure contexts, so fall back. */
export function newIdempotencyKey(): string {
  const c = globalThis.crypto
  if (typeof c?.randomUUID === 'function') return c.randomUUID()
  const b = new Uint8Array(16)
  c.getRandomValues(b)
  b[6] = ((b[6] ?? 0) & 0x0f) | 0x40
  b[8] = ((b[8] ?? 0) & 0x3f) | 0x80
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('')
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`
}

export function createOrder(body: CreateOrderRequest, idempotencyKey: string): Promise<Order> {
  return request('/api/orders', { method: 'POST', body, headers: { 'Idempotency-Key': idempotencyKey } })
}

/** One page of my orders, newest first; `cursor` is the previous page's `next_cursor`. */
export async function listOrdersPage(opts: { status?: OrderStatus; cursor?: string | null; limit?: number } = {}): Promise<Page<Order>> {
  return pageOf(await request<Page<Order> | Order[]>('/api/orders', { query: { status: opts.status, cursor: opts.cursor, limit: opts.limit ?? PAGE_SIZE } }))
}

export function getOrder(id: string): Promise<Order> {
  return request(`/api/orders/${encodeURIComponent(id)}`)
}

export function payOrder(id: string): Promise<PayResponse> {
  return request(`/api/orders/${encodeURIComponent(id)}/pay`, { method: 'POST' })
}

export function closeOrder(id: string): Promise<Order> {
  return request(`/api/orders/${encodeURIComponent(id)}/close`, { method: 'POST' })
}
