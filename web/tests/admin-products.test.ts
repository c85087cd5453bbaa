import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import AdminProductsView from '@/views/admin/AdminProductsView.vue'
import { createProduct, listAdminProducts, updateProduct } from '@/api/admin'
import { bySale, productFormProblems } from '@/utils/adminProducts'
import type { AdminProduct } from '@/api/types'
import { json, stubFetch } from './helpers'
import { adminPageHooks, mounted, byTestId, typeInto } from './admin-page'

function product(id: string, enabled: boolean, seckill = false, sortOrder = 0): AdminProduct {
  return {
    id, name: `P${id}`, description: '', price: '1.00', reward_use_times: 5, stock: 3, sale: 0,
    seckill, enabled, expires_days: 30, db_stock: 3, sort_order: sortOrder,
  }
}

adminPageHooks('zh-CN')

async function productsPage() {
  const Host = defineComponent({
    setup: () => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(AdminProductsView))),
  })
  mounted.wrapper = mount(Host, { attachTo: document.body })
  await flushPromises()
}

describe('admin products', () => {
  it('lists every product, on sale or not, following next_cursor', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/products': (req) =>
        req.url.includes('cursor=c2')
          ? json(200, { items: [product('3', true)], next_cursor: null })
          : json(200, { items: [product('1', true), product('2', false)], next_cursor: 'c2' }),
    })
    const list = await listAdminProducts()
    expect(list.map((p) => [p.id, p.enabled])).toEqual([['1', true], ['2', false], ['3', true]])
    expect(calls[0]!.headers.authorization).toBe('Bearer admin-token')
    expect(calls).toHaveLength(2)
  })

  it('filters by on sale and off sale', () => {
    const list = [product('1', true), product('2', false), product('3', true)]
    expect(bySale(list, 'all').map((p) => p.id)).toEqual(['1', '2', '3'])
    expect(bySale(list, 'on').map((p) => p.id)).toEqual(['1', '3'])
    expect(bySale(list, 'off').map((p) => p.id)).toEqual(['2'])
  })

  it('creates a flash-sale product, and puts one back on sale', async () => {
    const { calls } = stubFetch({
      'POST /api/admin/products': () => json(201, product('9', true, true)),
      'PATCH /api/admin/products/2': () => json(200, product('2', true)),
    })
    await createProduct({ name: 'F', description: '', price: '0.99', reward_use_times: 5, stock: 3, expires_days: 0, seckill: true })
    expect(calls[0]!.body).toMatchObject({ seckill: true })
    const back = await updateProduct('2', { enabled: true })
    expect(calls[1]!.body).toEqual({ enabled: true })
    expect(back.enabled).toBe(true)
  })

  it('checks the form at each field before sending', () => {
    expect(productFormProblems({ name: '', price: 'abc' })).toEqual({ name: '名称应为 1 到 30 个字', price: '价格应为不小于 0、最多两位小数的金额，如 9.90' })
    expect(productFormProblems({ name: '好'.repeat(31), price: '1.00' })).toEqual({ name: '名称应为 1 到 30 个字' })
    expect(productFormProblems({ name: 'Pack', price: '9.90' })).toEqual({})
  })

  it('sends the display order the admin sets, on create and on edit, and lists it', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/products': () => json(200, { items: [product('2', true, false, 7)], next_cursor: null }),
      'POST /api/admin/products': () => json(201, product('9', true, false, 3)),
      'PATCH /api/admin/products/2': () => json(200, product('2', true, false, 1)),
    })
    await productsPage()
    expect(byTestId('admin-sort-order').textContent).toContain('7')

    byTestId('admin-new-product').click()
    await flushPromises()
    await typeInto('pf-name', 'Pack')
    await typeInto('pf-price', '9.90')
    await typeInto('pf-sort-order', '3')
    byTestId('pf-save').click()
    await flushPromises()
    const created = calls.find((c) => c.method === 'POST')
    expect(created?.body).toMatchObject({ name: 'Pack', price: '9.90', sort_order: 3 })

    byTestId('admin-edit').click()
    await flushPromises()
    expect(byTestId('pf-sort-order').querySelector('input')?.value).toBe('7')
    await typeInto('pf-sort-order', '1')
    byTestId('pf-save').click()
    await flushPromises()
    const patched = calls.find((c) => c.method === 'PATCH')
    expect(patched?.body).toMatchObject({ sort_order: 1 })
  })
})
