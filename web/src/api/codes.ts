/** Redemption codes: the user's own, and redeeming one (orders service). */
import { PAGE_SIZE, pageOf, request } from './http'
import type { ExchangeCode, Page, RedeemResponse } from './types'

/** One page of my codes; `cursor` is the previous page's `next_cursor`. */
export async function listCodesPage(cursor?: string | null, limit = PAGE_SIZE): Promise<Page<ExchangeCode>> {
  return pageOf(await request<Page<ExchangeCode> | ExchangeCode[]>('/api/exchange-codes', { query: { cursor, limit } }))
}

export function redeemCode(code: string): Promise<RedeemResponse> {
  return request('/api/exchange-codes/redeem', { method: 'POST', body: { code } })
}
