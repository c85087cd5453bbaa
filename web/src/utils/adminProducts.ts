/** The admin product list's sale filter and the product form's own checks. */
import type { AdminProduct } from '@/api/types'
import { translate } from '@/locales'
import { toCents } from './money'

export type SaleFilter = 'all' | 'on' | 'off'

export function bySale(products: AdminProduct[], filter: SaleFilter): AdminProduct[] {
  if (filter === 'all') return products
  return products.filter((p) => p.enabled === (filter === 'on'))
}

/** Longest product name the server accepts (characters). */
export const NAME_MAX = 30

/** What is wrong with the form, by the API's field names, in the current language; empty when fine. */
export function productFormProblems(form: { name: string; price: string }): Record<string, string> {
  const problems: Record<string, string> = {}
  const name = form.name.trim()
  if (!name || [...name].length > NAME_MAX) problems.name = translate('fields.name')
  const cents = toCents(form.price)
  if (cents === null || cents < 0) problems.price = translate('fields.price')
  return problems
}
