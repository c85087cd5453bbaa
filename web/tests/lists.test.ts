import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { adminOrderQuery, listAdminOrdersPage } from '@/api/admin'
import { useChatStore } from '@/stores/chat'
import { useOrdersStore } from '@/stores/orders'
import type { ExchangeCode, Order } from '@/api/types'
import { freshStores, json, makeUser, signIn, stubFetch, type Recorded } from './helpers'

const user = makeUser()

function order(id: number): Order {
  return {
    id: String(id),
    status: 'closed',
    type: 'normal',
    total_amount: '0.01',
    pay_amount: '0.01',
    items: [],
    qr_code: null,
    created_at: '2026-01-01T00:00:00Z',
    expires_at: null,
    pay_time: null,
  }
}

function code(c: string, used = false): ExchangeCode {
  return { code: c, product_name: 'P', reward_use_times: 5, price: '0.01', used, expires_at: null }
}

const params = (r: Recorded) => new URL(r.url, 'http://x').searchParams

/** A list endpoint answering pages of `size` from `all`, the cursor being the last id shown. */
function pager<T>(all: T[], id: (t: T) => string) {
  return (req: Recorded) => {
    const q = params(req)
    const limit = Number(q.get('limit') ?? 20)
    const after = q.get('cursor')
    const start = after ? all.findIndex((t) => id(t) === after) + 1 : 0
    const items = all.slice(start, start + limit)
    const more = start + limit < all.length
    return json(200, { items, next_cursor: more ? id(items[items.length - 1]!) : null })
  }
}

beforeEach(() => {
  freshStores()
})

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
})

function loggedIn(times = 3) {
  return signIn({ ...user, can_conversation_times: times })
}

describe('my orders and my codes page by next_cursor', () => {
  it('loads the first page, then more until there is no next_cursor', async () => {
    const all = Array.from({ length: 45 }, (_, i) => order(1000 - i))
    const { calls } = stubFetch({ 'GET /api/orders': pager(all, (o) => o.id) })
    const orders = useOrdersStore()
    await orders.loadOrders()
    expect(orders.orders).toHaveLength(20)
    expect(orders.ordersHasMore).toBe(true)
    expect(params(calls[0]!).get('cursor')).toBeNull()
    await orders.loadMoreOrders()
    expect(params(calls[1]!).get('cursor')).toBe('981')
    await orders.loadMoreOrders()
    expect(orders.orders.map((o) => o.id)).toEqual(all.map((o) => o.id))
    expect(orders.ordersHasMore).toBe(false)
    await orders.loadMoreOrders()
    expect(calls).toHaveLength(3)
  })

  it('codes too; a refresh keeps as many as were shown', async () => {
    const all = Array.from({ length: 30 }, (_, i) => code(`C${100 + i}`))
    const { calls } = stubFetch({ 'GET /api/exchange-codes': pager(all, (c) => c.code) })
    const orders = useOrdersStore()
    await orders.loadCodes()
    expect(orders.codes).toHaveLength(20)
    expect(orders.codesHasMore).toBe(true)
    await orders.loadMoreCodes()
    expect(orders.codes).toHaveLength(30)
    expect(orders.codesHasMore).toBe(false)
    await orders.refreshCodes()
    expect(orders.codes).toHaveLength(30)
    expect(calls.length).toBe(4)
  })
})

describe('after a redemption', () => {
  it('My codes is read again from the server', async () => {
    await loggedIn(0)
    let used = false
    const { calls } = stubFetch({
      'GET /api/exchange-codes': () => json(200, { items: [code('ABCD-EFGH', used)], next_cursor: null }),
      'POST /api/exchange-codes/redeem': () => {
        used = true
        return json(200, { reward_use_times: 5, can_conversation_times: 5 })
      },
    })
    const orders = useOrdersStore()
    await orders.loadCodes()
    expect(orders.codes[0]!.used).toBe(false)
    // Typed by hand in lower case: the server matches it, so must the list.
    await orders.redeem('abcd-efgh')
    await vi.waitFor(() => expect(orders.codes[0]!.used).toBe(true))
    expect(calls.filter((c) => c.url.startsWith('/api/exchange-codes?')).length).toBe(2)
  })
})

describe('after Stop', () => {
  it('the chat times shown are read again from the server', async () => {
    const auth = await loggedIn(3)
    stubFetch({
      'POST /api/chat/completions': (req) => {
        const enc = new TextEncoder()
        return new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(enc.encode('event: meta\ndata: {"room_id":"r","question_id":"q","answer_id":"a","model":"m"}\n\n'))
              c.enqueue(enc.encode('event: delta\ndata: {"content":"so far"}\n\n'))
              req.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
            },
          }),
          { status: 200 },
        )
      },
      'GET /api/chat/rooms': () => json(200, []),
      'GET /api/users/me': () => json(200, { ...user, can_conversation_times: 2 }),
    })
    const chat = useChatStore()
    const pending = chat.send('q')
    await vi.waitFor(() => expect(chat.messages[1]?.content).toBe('so far'))
    chat.stop()
    await pending
    await vi.waitFor(() => expect(auth.chatTimes).toBe(2))
  })
})

describe('admin order filter', () => {
  it('takes an email or a numeric user id', () => {
    expect(adminOrderQuery({ status: null, who: ' Zoe@Example.com ' })).toEqual({ status: null, user_id: null, email: 'Zoe@Example.com' })
    expect(adminOrderQuery({ status: 'completed', who: '12345' })).toEqual({ status: 'completed', user_id: '12345', email: null })
    expect(adminOrderQuery({ status: null, who: '  ' })).toEqual({ status: null, user_id: null, email: null })
  })

  it('pages by cursor', async () => {
    const { calls } = stubFetch({ 'GET /api/admin/orders': () => json(200, { items: [{ ...order(5), user_id: '7' }], next_cursor: '5' }) })
    const page = await listAdminOrdersPage({ status: null, user_id: null, email: 'z@example.com' }, '9')
    expect(page.next_cursor).toBe('5')
    expect(page.items[0]!.user_id).toBe('7')
    const q = params(calls[0]!)
    expect(q.get('email')).toBe('z@example.com')
    expect(q.get('cursor')).toBe('9')
    expect(q.get('user_id')).toBeNull()
  })
})
