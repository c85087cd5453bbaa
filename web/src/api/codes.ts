/** Redemption codes: the user's own, and redeeming one (orders service). */
import { itemsOf, request } from './http'
import type { ExchangeCode, Page, RedeemResponse } from './types'

export async function listCodes(): Promise<ExchangeCode[]> {
  return itemsOf(await request<Page<ExchangeCode> | ExchangeCode[]>('/api/exchange-codes', { query: { limit: 100 } }))
}

export function redeemCode(code: string): Promise<RedeemResponse> {
  return request('/api/exchange-codes/redeem', { method: 'POST', body: { code } })
}
