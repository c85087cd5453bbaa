import { describe, expect, it, vi } from 'vitest'
import { h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { conversionOf, percent, salesChart } from '@/utils/dashboard'
import type { DayFigures, RangeFigures } from '@/api/stats'
import { json, stubFetch } from './helpers'
import { adminPageHooks, mounted } from './admin-page'

// Charts draw on a canvas the test DOM lacks: each chart renders its option's series names instead.
vi.mock('vue-echarts', () => ({
  default: {
    props: { option: { type: Object, required: true } },
    setup: (props: { option: { series?: { name: string }[] } }) => () =>
      h('div', { class: 'chart-stub' }, (props.option.series ?? []).map((s) => s.name).join('|')),
  },
}))

const { default: AdminDashboardView } = await import('@/views/admin/AdminDashboardView.vue')

function range(revenue: string, placed: number, paid: number, closed: number): RangeFigures {
  return {
    revenue, paid_orders: paid, placed_orders: placed, closed_orders: closed, refunded_orders: 1,
    new_users: 7, answers: 42, chat_times_sold: 300, chat_times_used: 40,
  }
}

function day(date: string, revenue: string, paid: number): DayFigures {
  return { date, revenue, paid_orders: paid, placed_orders: paid + 2, closed_orders: 1, new_users: 3, answers: 9, tokens: 1200 }
}

const SUMMARY = {
  today: range('12.50', 4, 2, 1),
  last_7_days: range('88.00', 20, 15, 4),
  last_30_days: range('301.20', 80, 60, 12),
}
const DAILY = [day('2026-11-25', '10.00', 2), day('2026-11-26', '12.50', 2)]
const UNITS = [
  { product_id: '11', name: 'Starter', units: 9, revenue: '27.00' },
  { product_id: '12', name: 'Pro', units: 2, revenue: '60.00' },
]
const REVENUE = [UNITS[1], UNITS[0]]
const PROBLEMS = { payment_failures: 2, stale_awaiting_confirmation: 0, refused_notifies_24h: 5 }

adminPageHooks()

function text(testid: string): string {
  const el = document.querySelector<HTMLElement>(`[data-testid="${testid}"]`)
  if (!el) throw new Error(`no ${testid}`)
  return el.textContent?.replace(/\s+/g, ' ').trim() ?? ''
}

async function dashboard() {
  const stub = stubFetch({
    'GET /api/admin/stats/summary': () => json(200, SUMMARY),
    'GET /api/admin/stats/daily': () => json(200, { items: DAILY }),
    'GET /api/admin/stats/hot-products': (req) =>
      json(200, { items: req.url.includes('by=revenue') ? REVENUE : UNITS }),
    'GET /api/admin/stats/problems': () => json(200, PROBLEMS),
  })
  mounted.wrapper = mount(NMessageProvider, { slots: { default: () => h(AdminDashboardView) }, attachTo: document.body })
  await flushPromises()
  return stub
}

describe('admin dashboard', () => {
  it('shows the summary cards, conversion, problems, rankings and charts from the API', async () => {
    const { calls } = await dashboard()
    expect(calls.every((c) => c.headers.authorization === 'Bearer admin-token')).toBe(true)
    expect(calls.some((c) => c.url.includes('/api/admin/stats/daily?days=30'))).toBe(true)

    expect(text('dashboard-card-revenue')).toContain('¥12.50')
    expect(text('dashboard-card-paid_orders')).toContain('2')
    expect(text('dashboard-card-placed_orders')).toContain('4')
    expect(text('dashboard-card-new_users')).toContain('7')
    expect(text('dashboard-card-chat_times_sold')).toContain('300')
    expect(text('dashboard-card-chat_times_used')).toContain('40')
    expect(text('dashboard-conversion')).toContain('50.0%')
    expect(text('dashboard-conversion')).toContain('4 placed, 2 paid, 1 closed (25.0%)')

    expect(text('dashboard-problem-payment_failures')).toContain('2')
    expect(text('dashboard-problem-refused_notifies_24h')).toContain('5')

    expect(text('dashboard-hot-units')).toMatch(/Starter.*9 sold · ¥27\.00.*Pro.*2 sold · ¥60\.00/)
    expect(text('dashboard-hot-revenue')).toMatch(/Pro.*Starter/)

    expect(text('dashboard-chart-sales')).toBe('Revenue|Orders placed|Paid orders|Orders closed')
    expect(text('dashboard-chart-usage')).toBe('Answers|Tokens')
  })

  it('switches the cards to the last 30 days', async () => {
    await dashboard()
    const button = document.querySelector<HTMLElement>('[data-testid="dashboard-range-last_30_days"] input')
    if (!button) throw new Error('no range button')
    button.click()
    await flushPromises()
    expect(text('dashboard-card-revenue')).toContain('¥301.20')
    expect(text('dashboard-conversion')).toContain('75.0%')
  })

  it('builds chart data oldest first and rates that never divide by zero', () => {
    const option = salesChart(DAILY, { revenue: 'r', placed: 'p', paid: 'd', closed: 'c' })
    expect((option.xAxis as { data: string[] }).data).toEqual(['11-25', '11-26'])
    expect((option.series as { data: number[] }[])[0]!.data).toEqual([10, 12.5])
    expect(percent(1, 0)).toBe('—')
    expect(conversionOf(range('0.00', 0, 0, 0)).paidRate).toBe('—')
  })
})
