import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { createMemoryHistory, createRouter } from 'vue-router'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { exportCodes, filenameOf, type AdminCode, type NotifyEntry, type PaymentFailure } from '@/api/adminPayments'
import type { Order } from '@/api/types'
import { codeStateTag, disableable, notifyRows, orderIdOf, reasonValid, refundable, retryable } from '@/utils/adminConsole'
import { json, stubFetch } from './helpers'
import { adminPageHooks, mounted, byTestId, typeInto, click } from './admin-page'

const { default: AdminPaymentsView } = await import('@/views/admin/AdminPaymentsView.vue')
const { default: AdminCodesView } = await import('@/views/admin/AdminCodesView.vue')

function order(over: Partial<Order> = {}): Order {
  return {
    id: '501', status: 'completed', type: 'normal', total_amount: '19.80', pay_amount: '19.80', items: [],
    qr_code: null, created_at: '2026-11-25T08:00:00.000Z', expires_at: null, pay_time: '2026-11-25T08:01:00.000Z',
    refund: null, ...over,
  }
}

function failure(id: string, over: Partial<PaymentFailure> = {}): PaymentFailure {
  return {
    id, order_id: '501', out_trade_no: '501_1', last_error: 'order 501: product 9 has 0 free codes, 1 needed',
    attempts: 5, resolved: false, resolved_at: null, created_at: '2026-11-25T08:00:00.000Z', updated_at: '2026-11-25T08:00:00.000Z',
    ...over,
  }
}

function notify(over: Partial<NotifyEntry> = {}): NotifyEntry {
  return {
    id: '9', notify_id: 'n1', out_trade_no: '501_1', trade_no: 't1', trade_status: 'TRADE_SUCCESS', verified: true,
    handed_over: true, rejection_reason: null, received_at: '2026-11-25T08:01:00.000Z',
    fields: { subject: 'PayChat', sign: '[withheld]', trade_status: 'TRADE_SUCCESS', total_amount: '19.80', app_id: '2021' },
    ...over,
  }
}

function code(id: string, over: Partial<AdminCode> = {}): AdminCode {
  return {
    id, code: 'ABCD-EFGH-JKMN-PQRS', product_id: '77', state: 'unsold', order_id: null, owner_id: null,
    redeemed_by: null, expires_at: null, ...over,
  }
}

adminPageHooks()

async function mountPage(view: object, path: string) {
  const router = createRouter({ history: createMemoryHistory(), routes: [{ path: '/:any(.*)*', component: view }] })
  await router.push(path)
  await router.isReady()
  const Host = defineComponent({ setup: () => () => h(NMessageProvider, null, () => h(view)) })
  mounted.wrapper = mount(Host, { attachTo: document.body, global: { plugins: [router] } })
  await flushPromises()
  return router
}

describe('payments page', () => {
  it('lists the open failures and retries one', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/payment-failures': () => json(200, { items: [failure('31')], next_cursor: null }),
      'POST /api/admin/payment-failures/31/retry': () => json(200, failure('31', { resolved: true })),
    })
    await mountPage(AdminPaymentsView, '/admin/payments')
    expect(calls[0]!.url).toContain('state=open')
    expect(document.querySelectorAll('[data-testid="failure-row"]')).toHaveLength(1)
    expect(document.body.textContent).toContain('0 free codes')
    await click('failure-retry-31')
    expect(calls.at(-1)!.method).toBe('POST')
    expect(document.body.textContent).toContain('Payment fulfilled')
    expect(document.querySelector('[data-testid="failure-retry-31"]')).toBeNull()
  })

  it('shows an order with its notify log, the signature withheld, and refunds it only with a reason', async () => {
    let current = order()
    const { calls } = stubFetch({
      'GET /api/admin/payment-failures': () => json(200, { items: [], next_cursor: null }),
      'GET /api/admin/orders/501/notifies': () => json(200, { order: current, items: [notify()] }),
      'POST /api/admin/orders/501/refund': () => {
        current = order({ status: 'refunded', refund: { amount: '19.80', refunded_at: '2026-11-26T08:00:00.000Z' } })
        return json(200, current)
      },
    })
    const router = await mountPage(AdminPaymentsView, '/admin/payments?order=501')
    expect(byTestId('payments-order').dataset.status).toBe('completed')
    expect(byTestId('payments-order-status').textContent).toContain('Completed')
    expect(byTestId('payments-notifies').textContent).toContain('TRADE_SUCCESS')
    expect(byTestId('payments-notifies').textContent).toContain('verified')

    await click('payments-refund')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    expect(byTestId('payments-refund-confirm').textContent).toContain('¥19.80')
    expect((byTestId('payments-refund-submit') as HTMLButtonElement).disabled).toBe(true)
    await typeInto('payments-refund-reason', '  buyer asked  ')
    await click('payments-refund-submit')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toContain('/api/admin/orders/501/refund')
    expect(post.body).toEqual({ reason: 'buyer asked' })
    expect(byTestId('payments-order').dataset.status).toBe('refunded')
    expect(byTestId('payments-order-refund').textContent).toContain('19.80')
    expect(document.querySelector('[data-testid="payments-refund"]')).toBeNull()
    expect(router.currentRoute.value.query.order).toBe('501')
  })

  it('reconciles an order now and says what Alipay found; a refused refund reads as such', async () => {
    stubFetch({
      'GET /api/admin/payment-failures': () => json(200, { items: [], next_cursor: null }),
      'GET /api/admin/orders/502/notifies': () => json(200, { order: order({ id: '502' }), items: [] }),
      'POST /api/admin/orders/502/reconcile': () =>
        json(200, {
          order: order({ id: '502' }),
          trades: [{ out_trade_no: '502_1', trade_status: 'TRADE_SUCCESS', outcome: 'fulfilled' }],
        }),
      'POST /api/admin/orders/502/refund': () =>
        json(409, { error: { code: 'codes_used', message: 'x', used_codes: 1 } }),
    })
    await mountPage(AdminPaymentsView, '/admin/payments')
    await typeInto('payments-order-id', ' 502 ')
    await click('payments-order-open')
    expect(byTestId('payments-order').textContent).toContain('No notify arrived')
    await click('payments-reconcile')
    expect(byTestId('payments-findings').textContent).toContain('502_1')
    expect(byTestId('payments-findings').textContent).toContain('the order is now completed')
    await click('payments-refund')
    await typeInto('payments-refund-reason', 'chargeback')
    await click('payments-refund-submit')
    expect(document.body.textContent).toContain('A code of this order was redeemed; it cannot be refunded')
  })
})

describe('codes page', () => {
  it('lists a product\'s codes by state and disables one only with a reason', async () => {
    let state: AdminCode['state'] = 'unsold'
    const { calls } = stubFetch({
      'GET /api/admin/products': () =>
        json(200, { items: [{ id: '77', name: 'Pack', description: '', price: '9.90', reward_use_times: 10, stock: 3, sale: 0, enabled: true, expires_days: 30, db_stock: 3 }], next_cursor: null }),
      'GET /api/admin/codes': () =>
        json(200, { items: [code('1', { state }), code('2', { state: 'redeemed', redeemed_by: '8', order_id: '501' })], next_cursor: null }),
      'POST /api/admin/codes/1/disable': () => {
        state = 'disabled'
        return json(200, code('1', { state }))
      },
    })
    await mountPage(AdminCodesView, '/admin/codes')
    const list = calls.find((c) => c.url.startsWith('/api/admin/codes'))!
    expect(list.url).toContain('product_id=77')
    expect(document.querySelectorAll('[data-testid="code-row"]')).toHaveLength(2)
    expect(document.body.textContent).toContain('Redeemed')
    // A redeemed code offers no disable.
    expect(document.querySelector('[data-testid="code-disable-2"]')).toBeNull()
    await click('code-disable-1')
    expect(byTestId('code-disable-dialog').textContent).toContain('one unit less in stock')
    expect((byTestId('code-disable-submit') as HTMLButtonElement).disabled).toBe(true)
    await typeInto('code-disable-reason', 'misprint')
    await click('code-disable-submit')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.body).toEqual({ reason: 'misprint' })
    const row = document.querySelector<HTMLElement>('[data-code-id="1"]')!
    expect(row.dataset.state).toBe('disabled')
    expect(document.querySelector('[data-testid="code-disable-1"]')).toBeNull()
  })

  it('opens the product a link names', async () => {
    const product = (id: string) => ({ id, name: `P${id}`, description: '', price: '1.00', reward_use_times: 1, stock: 1, sale: 0, enabled: true, expires_days: 0, db_stock: 1 })
    const { calls } = stubFetch({
      'GET /api/admin/products': () => json(200, { items: [product('77'), product('78')], next_cursor: null }),
      'GET /api/admin/codes': () => json(200, { items: [], next_cursor: null }),
    })
    await mountPage(AdminCodesView, '/admin/codes?product=78')
    expect(calls.find((c) => c.url.startsWith('/api/admin/codes'))!.url).toContain('product_id=78')
    expect(byTestId('codes-empty')).toBeTruthy()
  })

  it('downloads the CSV with the server\'s file name and the admin\'s token', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/codes/export': () =>
        new Response('id,code\n1,ABCD\n', {
          status: 200,
          headers: { 'Content-Type': 'text/csv; charset=utf-8', 'Content-Disposition': 'attachment; filename="codes-77-unsold.csv"' },
        }),
    })
    const { filename, blob } = await exportCodes('77')
    expect(filename).toBe('codes-77-unsold.csv')
    expect(await blob.text()).toBe('id,code\n1,ABCD\n')
    expect(calls[0]!.url).toContain('product_id=77')
    expect(calls[0]!.url).toContain('state=unsold')
    expect(calls[0]!.headers.authorization).toBe('Bearer admin-token')
  })
})

describe('the panels\' rules', () => {
  it('match the server', () => {
    expect(reasonValid('x')).toBe(true)
    expect(reasonValid('  ')).toBe(false)
    expect(reasonValid('é'.repeat(200))).toBe(true)
    expect(reasonValid('é'.repeat(201))).toBe(false)
    expect(refundable(order())).toBe(true)
    for (const status of ['awaiting_payment', 'closed', 'refunded'] as const) expect(refundable(order({ status }))).toBe(false)
    expect(refundable(null)).toBe(false)
    expect(retryable(failure('1'))).toBe(true)
    expect(retryable(failure('1', { resolved: true }))).toBe(false)
    expect(disableable(code('1', { state: 'sold' }))).toBe(true)
    expect(disableable(code('1', { state: 'expired' }))).toBe(true)
    expect(disableable(code('1', { state: 'redeemed' }))).toBe(false)
    expect(disableable(code('1', { state: 'disabled' }))).toBe(false)
    expect(codeStateTag('disabled')).toBe('error')
    expect(codeStateTag('redeemed')).toBe('success')
    expect(orderIdOf(' 123 ')).toBe('123')
    expect(orderIdOf('12a')).toBeNull()
    expect(orderIdOf('')).toBeNull()
    expect(filenameOf('attachment; filename="a.csv"', 'b.csv')).toBe('a.csv')
    expect(filenameOf(null, 'b.csv')).toBe('b.csv')
  })

  it('put the fields that decide a payment first, then the rest by name', () => {
    const rows = notifyRows(notify()).map((r) => r.name)
    expect(rows).toEqual(['trade_status', 'total_amount', 'app_id', 'sign', 'subject'])
    expect(notifyRows(notify()).find((r) => r.name === 'sign')!.value).toBe('[withheld]')
  })
})
