/** How the recharge dialog orders and limits the products it offers. */
import type { Product } from '@/api/types'

/** Products shown before the buyer asks for more. */
export const FIRST_PRODUCTS = 4

export function isSoldOut(p: Product): boolean {
  return p.stock <= 0
}

/** The API's order kept, sold-out products moved to the end (they stay visible, disabled). */
export function soldOutLast(products: Product[]): Product[] {
  return [...products.filter((p) => !isSoldOut(p)), ...products.filter(isSoldOut)]
}
