/** Admin endpoints (role admin only): products, orders, sensitive words. */
import { PAGE_SIZE, itemsOf, pageOf, request } from './http'
import type { NewProduct, Order, OrderStatus, Page, Product, ProductPatch, SensitiveWord } from './types'

export function createProduct(body: NewProduct): Promise<Product> {
  return request('/api/admin/products', { method: 'POST', body })
}

export function updateProduct(id: string, body: ProductPatch): Promise<Product> {
  return request(`/api/admin/products/${encodeURIComponent(id)}`, { method: 'PATCH', body })
}

export function addStock(id: string, add: number): Promise<Product> {
  return request(`/api/admin/products/${encodeURIComponent(id)}/stock`, { method: 'POST', body: { add } })
}

export interface AdminOrderFilter {
  status: OrderStatus | null
  user_id: string | null
  email: string | null
}

/** The admin's "who" box holds a user id or an email address; an "@" tells them apart. */
export function adminOrderQuery(input: { status: OrderStatus | null; who: string }): AdminOrderFilter {
  const who = input.who.trim()
  if (!who) return { status: input.status, user_id: null, email: null }
  return who.includes('@')
    ? { status: input.status, user_id: null, email: who }
    : { status: input.status, user_id: who, email: null }
}

/** One page of everyone's orders, newest first; `cursor` is the previous page's `next_cursor`. */
export async function listAdminOrdersPage(filter: AdminOrderFilter, cursor?: string | null, limit = PAGE_SIZE): Promise<Page<Order>> {
  return pageOf(
    await request<Page<Order> | Order[]>('/api/admin/orders', {
      query: { status: filter.status, user_id: filter.user_id, email: filter.email, cursor, limit },
    }),
  )
}

export async function listSensitiveWords(): Promise<SensitiveWord[]> {
  return itemsOf(await request<Page<SensitiveWord> | SensitiveWord[]>('/api/admin/sensitive-words', { query: { limit: 100 } }))
}

export function addSensitiveWord(word: string): Promise<SensitiveWord> {
  return request('/api/admin/sensitive-words', { method: 'POST', body: { word } })
}

/** Deletes one word by its id. */
export function deleteSensitiveWord(w: SensitiveWord): Promise<void> {
  return request(`/api/admin/sensitive-words/${encodeURIComponent(w.id)}`, { method: 'DELETE' })
}
