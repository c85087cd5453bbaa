/** Products on sale (orders service; no auth needed). */
import { request } from './http'
import type { Page, Product } from './types'

/** Pages asked for at most while listing every product; a loop guard, far above any shop's size. */
const MAX_PAGES = 50

/** The first `limit` products on sale. */
export async function listProducts(limit = 20): Promise<Product[]> {
  return (await listProductsPage(limit)).items
}

/** One page of products on sale, in the API's order (the admin's display order, then best sellers). */
export async function listProductsPage(limit = 100, cursor?: string | null): Promise<Page<Product>> {
  const page = await request<Page<Product> | Product[]>('/api/products', { query: { limit, cursor } })
  if (Array.isArray(page)) return { items: page, next_cursor: null }
  return { items: page?.items ?? [], next_cursor: page?.next_cursor ?? null }
}

/** Every product on sale, following `next_cursor` page by page, in the API's order. */
export async function listAllProducts(): Promise<Product[]> {
  const all: Product[] = []
  const seen = new Set<string>()
  let cursor: string | null = null
  for (let n = 0; n < MAX_PAGES; n++) {
    const page: Page<Product> = await listProductsPage(100, cursor)
    for (const p of page.items) {
      if (!seen.has(p.id)) {
        seen.add(p.id)
        all.push(p)
      }
    }
    if (!page.next_cursor || page.next_cursor === cursor) break
    cursor = page.next_cursor
  }
  return all
}

export function getProduct(id: string): Promise<Product> {
  return request(`/api/products/${encodeURIComponent(id)}`)
}
