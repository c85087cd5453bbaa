import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h } from 'vue'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import OrdersView from '@/views/OrdersView.vue'
import { useOrdersStore } from '@/stores/orders'
import type { Order } from '@/api/types'
import { setLocale } from '@/locales'
import { closeReasonKey, isUnpaid } from '@/utils/orders'
import { json, stubFetch } from './helpers'

function order(id: string, over: Partial<Order> = {}): Order {
  return {
    id,
    status: 'closed',
    type: 'normal',
    total_amount: '9.90',
    pay_amount: '9.90',
    items: [{ product_id: '1', product_name: 'Pack', product_price: '9.90', quantity: 1 }],
    qr_code: null,
    created_at: '2026-01-01T00:00:00Z',
    expires_at: '2030-01-01T00:00:00Z',
    pay_time: null,
    ...over,
  }
}

const refund = { amount: '9.90', refunded_at: '2026-01-01T00:20:00Z' }
const orders: Order[] = [
  order('1', { status: 'awaiting_confirmation', qr_code: 'http://127.0.0.1:8092/qr/1_1' }),
  order('2', { status: 'awaiting_payment' }),
  order('3', { close_reason: 'buyer' }),
  order('4', { close_reason: 'timeout' }),
  order('5', { close_reason: 'timeout', refund }),
]

let wrapper: VueWrapper | null = null

beforeEach(() => {
  localStorage.clear()
  setLocale('en')
  setActivePinia(createPinia())
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

async function page() {
  stubFetch({ 'GET /api/orders': () => json(200, { items: orders, next_cursor: null }) })
  const Host = defineComponent({
    setup: () => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(OrdersView))),
  })
  wrapper = mount(Host, { attachTo: document.body })
  await flushPromises()
}

const card = (id: string) => document.querySelector(`[data-testid="order-item"][data-order-id="${id}"]`)
const within = (id: string, testid: string) => card(id)?.querySelector(`[data-testid="${testid}"]`) ?? null

describe('my orders', () => {
  it('counts an order whose QR code was shown as unpaid', () => {
    expect(isUnpaid(orders[0]!)).toBe(true)
    expect(isUnpaid(orders[1]!)).toBe(true)
    expect(isUnpaid(orders[2]!)).toBe(false)
  })

  it('names why a closed order closed', () => {
    expect(closeReasonKey(orders[2]!)).toBe('buyer')
    expect(closeReasonKey(orders[3]!)).toBe('timeout')
    expect(closeReasonKey(orders[4]!)).toBe('refunded')
    expect(closeReasonKey(orders[0]!)).toBeNull()
    expect(closeReasonKey(order('9', { status: 'completed', refund }))).toBeNull()
  })

  it('offers pay and close for every unpaid order, the shown QR code included', async () => {
    await page()
    for (const id of ['1', '2']) {
      expect(within(id, 'order-pay'), id).not.toBeNull()
      expect(within(id, 'order-close'), id).not.toBeNull()
    }
    for (const id of ['3', '4', '5']) expect(within(id, 'order-pay'), id).toBeNull()
    // Reads as unpaid, not as something the buyer must wait for.
    expect(within('1', 'order-status')?.textContent).toMatch(/awaiting payment/i)
    ;(within('1', 'order-pay') as HTMLElement).click()
    expect(useOrdersStore().payOrderId).toBe('1')
  })

  it('says why each closed order closed', async () => {
    await page()
    expect(within('3', 'order-close-reason')?.textContent).toBe('Closed by you')
    expect(within('4', 'order-close-reason')?.textContent).toBe('Closed: the payment time ran out')
    expect(within('5', 'order-close-reason')?.textContent).toBe('Closed; your payment was refunded')
    expect(within('1', 'order-close-reason')).toBeNull()
    setLocale('zh-CN')
    await flushPromises()
    expect(within('3', 'order-close-reason')?.textContent).toBe('已由你关闭')
    expect(within('4', 'order-close-reason')?.textContent).toBe('超时未支付，已关闭')
  })
})
