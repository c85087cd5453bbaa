import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, nextTick } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import RechargeDialog from '@/components/RechargeDialog.vue'
import { useOrdersStore } from '@/stores/orders'
import type { Product } from '@/api/types'
import { setLocale } from '@/locales'
import { json, stubFetch } from './helpers'

function product(id: number, stock: number, sale = 0): Product {
  return { id: String(id), name: `Pack ${id}`, description: `${id} chats`, price: '1.00', reward_use_times: id, stock, sale }
}

/** Seven products in the API's order; the second and fourth are sold out. */
const catalogue = [product(1, 5, 9), product(2, 0, 8), product(3, 5, 7), product(4, 0, 6), product(5, 5, 5), product(6, 5, 0), product(7, 5, 0)]

/** Serves the catalogue three at a time, following the cursor. */
function pagedProducts() {
  return stubFetch({
    'GET /api/products': (req) => {
      const q = new URL(req.url, 'http://x').searchParams
      const from = Number(q.get('cursor') ?? 0)
      const items = catalogue.slice(from, from + 3)
      const next = from + 3 < catalogue.length ? String(from + 3) : null
      return json(200, { items, next_cursor: next })
    },
  })
}

beforeEach(() => {
  localStorage.clear()
  setLocale('en')
  setActivePinia(createPinia())
})

afterEach(() => {
  vi.unstubAllGlobals()
  document.body.innerHTML = ''
})

describe('recharge products', () => {
  it('offers every product on sale across pages, sold-out ones last', async () => {
    const { calls } = pagedProducts()
    const orders = useOrdersStore()
    await orders.loadProducts()
    expect(calls.map((c) => new URL(c.url, 'http://x').searchParams.get('cursor'))).toEqual([null, '3', '6'])
    expect(orders.products.map((p) => p.id)).toEqual(['1', '3', '5', '6', '7', '2', '4'])
  })

  it('shows the first four until asked for more', async () => {
    pagedProducts()
    const orders = useOrdersStore()
    orders.openRecharge()
    await orders.loadProducts()
    expect(orders.visibleProducts.map((p) => p.id)).toEqual(['1', '3', '5', '6'])
    expect(orders.hiddenProductCount).toBe(3)
    orders.showMoreProducts()
    expect(orders.visibleProducts.map((p) => p.id)).toEqual(['1', '3', '5', '6', '7', '2', '4'])
    expect(orders.hiddenProductCount).toBe(0)
    // A product beyond the fourth can be bought; a sold-out one cannot.
    orders.setQuantity('7', 2)
    orders.setQuantity('2', 1)
    expect(orders.selection.map((l) => [l.product.id, l.quantity])).toEqual([['7', 2]])
    // Opening the dialog again starts with the first four.
    orders.openRecharge()
    expect(orders.visibleProducts).toHaveLength(4)
  })
})

describe('recharge dialog', () => {
  it('renders four cards, a "more" control, then the rest with sold-out ones disabled', async () => {
    pagedProducts()
    const orders = useOrdersStore()
    orders.openRecharge()
    const Host = defineComponent({ render: () => h(NMessageProvider, null, { default: () => h(RechargeDialog) }) })
    const wrapper = mount(Host, { attachTo: document.body })
    await flushPromises()
    await nextTick()
    const cards = () => [...document.querySelectorAll('[data-product-card]')]
    expect(cards().map((c) => c.getAttribute('data-testid'))).toEqual(['product-1', 'product-3', 'product-5', 'product-6'])
    const more = document.querySelector<HTMLButtonElement>('[data-testid="products-more"]')
    expect(more?.textContent).toContain('Show 3 more')
    more!.click()
    await nextTick()
    expect(cards().map((c) => c.getAttribute('data-testid'))).toEqual([
      'product-1', 'product-3', 'product-5', 'product-6', 'product-7', 'product-2', 'product-4',
    ])
    expect(document.querySelector('[data-testid="products-more"]')).toBeNull()
    const soldOut = document.querySelector('[data-testid="product-2"]')!
    expect(soldOut.getAttribute('data-sold-out')).toBe('1')
    expect(soldOut.querySelector('[data-testid="product-sold-out"]')?.textContent).toContain('Sold out')
    expect(soldOut.querySelector<HTMLButtonElement>('[data-testid="qty-plus"]')!.disabled).toBe(true)
    const onSale = document.querySelector('[data-testid="product-7"]')!
    expect(onSale.getAttribute('data-sold-out')).toBe('0')
    expect(onSale.querySelector<HTMLButtonElement>('[data-testid="qty-plus"]')!.disabled).toBe(false)
    wrapper.unmount()
  })
})
