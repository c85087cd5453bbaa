/** Admin endpoints (role admin only): products, orders, sensitive words. */
import { itemsOf, request } from './http'
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

export async function listAdminOrders(filter: { status?: OrderStatus | null; user_id?: string | null }): Promise<Order[]> {
  return itemsOf(
    await request<Page<Order> | Order[]>('/api/admin/orders', {
      query: { status: filter.status, user_id: filter.user_id, limit: 100 },
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
