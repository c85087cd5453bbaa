import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { flushPromises, mount } from '@vue/test-utils'
import PaymentDialog from '@/components/PaymentDialog.vue'
import { useOrdersStore } from '@/stores/orders'
import type { Order } from '@/api/types'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { setLocale, translate } from '@/locales'
import { keepsPolling, paymentOutcome, showsQr, shownRefund } from '@/utils/payment'
import { json, stubFetch } from './helpers'

const QR = 'http://127.0.0.1:8092/qr/42_1'

function order(over: Partial<Order> = {}): Order {
  return {
    id: '42',
    status: 'awaiting_confirmation',
    type: 'normal',
    total_amount: '9.90',
    pay_amount: '9.90',
    items: [{ product_id: '1', product_name: 'Pack', product_price: '9.90', quantity: 1 }],
    qr_code: QR,
    created_at: '2026-01-01T00:00:00Z',
    expires_at: '2030-01-01T00:00:00Z',
    pay_time: null,
    ...over,
  }
}

const refund = { amount: '9.90', refunded_at: '2026-01-01T00:20:00Z' }

beforeEach(() => {
  localStorage.clear()
  setLocale('en')
  setActivePinia(createPinia())
})

afterEach(() => {
  vi.useRealTimers()
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

const q = (id: string) => document.querySelector(`[data-testid="${id}"]`)

describe('payment outcome', () => {
  it('offers the QR code only while the order is payable', () => {
    expect(showsQr(order())).toBe(true)
    expect(showsQr(order({ status: 'awaiting_payment' }))).toBe(true)
    expect(showsQr(null)).toBe(true)
    for (const status of ['closed', 'invalid', 'completed', 'refunded'] as const) {
      expect(showsQr(order({ status })), status).toBe(false)
    }
    expect(showsQr(order({ status: 'closed', refund }))).toBe(false)
  })

  it('shows a closed order with a refund as refunded, with the amount', () => {
    expect(paymentOutcome(order({ status: 'closed' }))).toBe('closed')
    expect(paymentOutcome(order({ status: 'closed', refund }))).toBe('refunded')
    expect(shownRefund(order({ status: 'closed', refund }))).toEqual(refund)
    expect(shownRefund(order({ status: 'refunded', pay_amount: '5.00' }))).toEqual({ amount: '5.00', refunded_at: null })
    expect(shownRefund(order({ status: 'closed' }))).toBeNull()
    // A second payment of a completed order went back, but the order is still completed.
    expect(paymentOutcome(order({ status: 'completed', refund }))).toBe('completed')
  })

  it('keeps watching a closed order for a late payment, not a refunded one', () => {
    expect(keepsPolling(order())).toBe(true)
    expect(keepsPolling(order({ status: 'closed' }))).toBe(true)
    expect(keepsPolling(order({ status: 'closed', refund }))).toBe(false)
    expect(keepsPolling(order({ status: 'invalid' }))).toBe(false)
    expect(keepsPolling(order({ status: 'completed' }))).toBe(false)
  })
})

describe('payment dialog', () => {
  it('hides the QR code and its link once the order closes', async () => {
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    let current = order()
    const { calls } = stubFetch({
      'GET /api/orders/42': () => json(200, current),
      'POST /api/orders/42/pay': () => json(200, { order_id: '42', out_trade_no: '42_1', qr_code: QR, expires_at: '2030-01-01T00:00:00Z' }),
    })
    const orders = useOrdersStore()
    orders.openPayment('42')
    const wrapper = mount(PaymentDialog, { attachTo: document.body })
    await vi.waitFor(() => expect(q('pay-qr')).not.toBeNull())
    expect(q('pay-link')?.getAttribute('href')).toBe(QR)
    expect(q('pay-closed')).toBeNull()

    current = order({ status: 'closed', qr_code: null })
    await vi.advanceTimersByTimeAsync(2100)
    await flushPromises()
    expect(q('pay-qr')).toBeNull()
    expect(q('pay-link')).toBeNull()
    expect(q('pay-closed')?.textContent?.trim()).toBe('This order is closed.')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(1)

    // Paid with the QR code anyway, after closing: the refund shows up in the open dialog.
    current = order({ status: 'closed', qr_code: null, refund })
    await vi.advanceTimersByTimeAsync(5100)
    await flushPromises()
    expect(q('pay-closed')).toBeNull()
    expect(q('pay-refunded')?.textContent).toContain('Refunded')
    expect(q('pay-refund-amount')?.textContent).toContain('¥9.90')
    expect(q('pay-refund-note')?.textContent).toContain('arrived after the order closed and was refunded to your Alipay account')
    wrapper.unmount()
  })

  it('opens a refunded order without asking for a QR code', async () => {
    setLocale('zh-CN')
    const { calls } = stubFetch({
      'GET /api/orders/42': () => json(200, order({ status: 'closed', qr_code: null, refund })),
      'POST /api/orders/42/pay': () => json(409, { error: { code: 'order_not_payable', message: 'no' } }),
    })
    const orders = useOrdersStore()
    orders.openPayment('42')
    const wrapper = mount(PaymentDialog, { attachTo: document.body })
    await vi.waitFor(() => expect(q('pay-refunded')).not.toBeNull())
    expect(q('pay-qr')).toBeNull()
    expect(q('pay-link')).toBeNull()
    expect(q('pay-error')).toBeNull()
    expect(q('pay-refund-amount')?.textContent).toContain('¥9.90')
    expect(q('pay-refund-note')?.textContent).toContain('已原路退回你的支付宝账户')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    wrapper.unmount()
  })

  it('shows a closed order as closed in Chinese, without a doubled word', async () => {
    setLocale('zh-CN')
    stubFetch({ 'GET /api/orders/42': () => json(200, order({ status: 'closed', qr_code: null })) })
    const orders = useOrdersStore()
    orders.openPayment('42')
    const wrapper = mount(PaymentDialog, { attachTo: document.body })
    await vi.waitFor(() => expect(q('pay-closed')).not.toBeNull())
    expect(q('pay-closed')?.textContent?.trim()).toBe('订单已关闭。')
    expect(q('pay-qr')).toBeNull()
    wrapper.unmount()
  })
})

describe('locales', () => {
  function strings(tree: unknown, prefix = ''): [string, string][] {
    if (typeof tree === 'string') return [[prefix, tree]]
    return Object.entries(tree as Record<string, unknown>).flatMap(([k, v]) => strings(v, prefix ? `${prefix}.${k}` : k))
  }

  it('has every key in both languages and no doubled 已', () => {
    const zh = strings(zhCN)
    const enKeys = new Set(strings(en).map(([k]) => k))
    expect(zh.map(([k]) => k).filter((k) => !enKeys.has(k))).toEqual([])
    expect(zh.filter(([, v]) => /已\s*\{?\w*\}?\s*已/.test(v) || v.includes('已 '))).toEqual([])
    for (const key of ['recharge.more', 'pay.final.closed', 'pay.refunded.lateNote', 'orders.status.refunded']) {
      expect(translate(key, { n: 1, amount: '1.00' }, 'zh-CN')).not.toBe(key)
      expect(translate(key, { n: 1, amount: '1.00' }, 'en')).not.toBe(key)
    }
  })
})
