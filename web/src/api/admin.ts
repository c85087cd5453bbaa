/** Admin endpoints (role admin only): products, orders, sensitive words. */
import { PAGE_SIZE, itemsOf, pageOf, request } from './http'
import type { AdminProduct, NewProduct, Order, OrderStatus, Page, ProductPatch, SensitiveWord } from './types'

/** Pages asked for at most while listing every product; a loop guard. */
const MAX_PAGES = 50

/** Every product, on sale or not, in the shop's order (following `next_cursor` should the server page). */
export async function listAdminProducts(): Promise<AdminProduct[]> {
  const all: AdminProduct[] = []
  let cursor: string | null = null
  for (let n = 0; n < MAX_PAGES; n++) {
    const page: Page<AdminProduct> = pageOf(
      await request<Page<AdminProduct> | AdminProduct[]>('/api/admin/products', { query: { cursor, limit: 100 } }),
    )
    all.push(...page.items)
    if (!page.next_cursor || page.next_cursor === cursor) break
    cursor = page.next_cursor
  }
  return all
}

export function createProduct(body: NewProduct): Promise<AdminProduct> {
  return request('/api/admin/products', { method: 'POST', body })
}

export function updateProduct(id: string, body: ProductPatch): Promise<AdminProduct> {
  return request(`/api/admin/products/${encodeURIComponent(id)}`, { method: 'PATCH', body })
}

export function addStock(id: string, add: number): Promise<AdminProduct> {
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
