/** The sales dashboard of the operator console (role admin only). Money is a string with two decimals. */
import { request } from './http'

export interface RangeFigures {
  revenue: string
  paid_orders: number
  placed_orders: number
  closed_orders: number
  refunded_orders: number
  new_users: number
  answers: number
  chat_times_sold: number
  chat_times_used: number
}

export interface StatsSummary {
  today: RangeFigures
  last_7_days: RangeFigures
  last_30_days: RangeFigures
}

export interface DayFigures {
  /** `YYYY-MM-DD`, a calendar day in the shop's time zone. */
  date: string
  revenue: string
  paid_orders: number
  placed_orders: number
  closed_orders: number
  new_users: number
  answers: number
  tokens: number
}

export type RankBy = 'units' | 'revenue'

export interface HotProduct {
  product_id: string
  name: string
  units: number
  revenue: string
}

export interface StatsProblems {
  payment_failures: number
  stale_awaiting_confirmation: number
  refused_notifies_24h: number
}

export function getStatsSummary(): Promise<StatsSummary> {
  return request('/api/admin/stats/summary')
}

/** One row per day, oldest first, days without activity included (`days` 1..=366). */
export async function getStatsDaily(days = 30): Promise<DayFigures[]> {
  return (await request<{ items: DayFigures[] }>('/api/admin/stats/daily', { query: { days } })).items
}

/** Best sellers of the last `days` days, best first. */
export async function getHotProducts(by: RankBy, days = 30, limit = 10): Promise<HotProduct[]> {
  return (await request<{ items: HotProduct[] }>('/api/admin/stats/hot-products', { query: { by, days, limit } })).items
}

export function getStatsProblems(): Promise<StatsProblems> {
  return request('/api/admin/stats/problems')
}
