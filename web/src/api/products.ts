/** Products on sale (orders service; no auth needed). */
import { itemsOf, request } from './http'
import type { Page, Product } from './types'

export async function listProducts(limit = 4): Promise<Product[]> {
  return itemsOf(await request<Page<Product> | Product[]>('/api/products', { query: { limit } }))
}

export function getProduct(id: string): Promise<Product> {
  return request(`/api/products/${encodeURIComponent(id)}`)
}
