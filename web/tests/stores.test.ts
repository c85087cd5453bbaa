import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { watch } from 'vue'
import { configureHttp } from '@/api/http'
import { useAuthStore } from '@/stores/auth'
import { useChatStore } from '@/stores/chat'
import { useOrdersStore } from '@/stores/orders'
import { json, makeUser, signIn, sse, stubFetch } from './helpers'

const user = makeUser({ id: '900719925474099312' })

let unauthorized = 0

beforeEach(() => {
  localStorage.clear()
  setActivePinia(createPinia())
  const auth = useAuthStore()
  unauthorized = 0
  configureHttp({
    token: () => auth.token,
    unauthorized: () => {
      unauthorized++
      auth.clear()
    },
  })
})

afterEach(() => {
  vi.unstubAllGlobals()
})

function loggedIn(times = 3) {
  return signIn({ ...user, can_conversation_times: times }, 'tok-1')
}

describe('auth store', () => {
  it('logs in, keeps the token and sends it as a bearer token afterwards', async () => {
    const { calls } = stubFetch({
      'POST /api/auth/login': () => json(200, { token: 'tok-1', expires_at: '2030-01-01T00:00:00Z', user }),
      'GET /api/users/me': () => json(200, { ...user, nickname: 'B' }),
    })
    const auth = useAuthStore()
    await auth.login('a@example.com', 'password1')
    expect(calls[0]!.body).toEqual({ email: 'a@example.com', password: 'password1' })
    expect(calls[0]!.headers.authorization).toBeUndefined()
    expect(auth.user?.id).toBe('900719925474099312')
    expect(localStorage.getItem('paychat.token')).toBe('tok-1')

    await auth.fetchMe()
    expect(calls[1]!.headers.authorization).toBe('Bearer tok-1')
    expect(auth.user?.nickname).toBe('B')
  })

  it('turns error JSON into a typed ApiError', async () => {
    stubFetch({ 'POST /api/auth/login': () => json(403, { error: { code: 'email_not_verified', message: 'verify first' } }) })
    const auth = useAuthStore()
    await expect(auth.login('a@example.com', 'password1')).rejects.toMatchObject({
      name: 'ApiError',
      status: 403,
      code: 'email_not_verified',
    })
    expect(auth.isLoggedIn).toBe(false)
  })

  it('drops the session when an authenticated call answers 401', async () => {
    const auth = await loggedIn()
    stubFetch({ 'GET /api/users/me': () => json(401, { error: { code: 'unauthorized', message: 'no' } }) })
    await expect(auth.fetchMe()).rejects.toMatchObject({ code: 'unauthorized' })
    expect(unauthorized).toBe(1)
    expect(auth.token).toBeNull()
    expect(localStorage.getItem('paychat.token')).toBeNull()
  })
})

describe('chat store', () => {
  it('streams an answer into place, grows it per delta and records the remaining times', async () => {
    const auth = await loggedIn(3)
    const chat = useChatStore()
    const seen: string[] = []
    const { calls } = stubFetch({
      'POST /api/chat/completions': () =>
        sse([
          'event: meta\ndata: {"room_id":"r1","question_id":"q1","answer_id":"a1","model":"m-1"}\n\n',
          'event: delta\ndata: {"content":"你"}\n\n',
          ': keep-alive\n\n',
          'event: delta\ndata: {"content":"好"}\n\nevent: delta\ndata: {"content":"!"}\n\n',
          'event: done\ndata: {"usage":{"prompt_tokens":3,"completion_tokens":3,"total_tokens":6},"remaining_times":2,"finish_reason":"stop"}\n\n',
        ]),
      'GET /api/chat/rooms': () => json(200, { items: [{ id: 'r1', title: 'hi', created_at: 'x', updated_at: 'x' }], next_cursor: null }),
    })
    const done = chat.send('hi there')
    // The answer exists (empty, streaming) before any byte arrives.
    expect(chat.messages).toHaveLength(2)
    expect(chat.messages[1]!.status).toBe('streaming')
    const unwatch = watch(() => chat.messages[1]?.content ?? '', (v) => seen.push(v), { flush: 'sync' })
    expect(await done).toBe('ok')
    unwatch()
    expect(seen).toEqual(['你', '你好', '你好!'])

    const answer = chat.messages[1]!
    expect(answer.content).toBe('你好!')
    expect(answer.status).toBe('done')
    expect(answer.id).toBe('a1')
    expect(chat.messages[0]!.id).toBe('q1')
    expect(chat.currentRoomId).toBe('r1')
    expect(auth.chatTimes).toBe(2)
    const body = calls.find((c) => c.url === '/api/chat/completions')!
    expect(body.body).toEqual({ prompt: 'hi there' })
    expect(body.headers.authorization).toBe('Bearer tok-1')

    // The follow-up continues the conversation from the last answer.
    const second = stubFetch({
      'POST /api/chat/completions': () => sse(['event: done\ndata: {"usage":null,"remaining_times":1,"finish_reason":"stop"}\n\n']),
      'GET /api/chat/rooms': () => json(200, { items: [], next_cursor: null }),
    })
    await chat.send('and then?')
    expect(second.calls[0]!.body).toEqual({ prompt: 'and then?', room_id: 'r1', parent_message_id: 'a1' })
  })

  it('shows the recharge prompt instead of an error on 402 no_chat_times', async () => {
    const auth = await loggedIn(1)
    stubFetch({
      'POST /api/chat/completions': () => json(402, { error: { code: 'no_chat_times', message: 'buy more' } }),
      'GET /api/chat/rooms': () => json(200, { items: [], next_cursor: null }),
    })
    const chat = useChatStore()
    expect(await chat.send('hello')).toBe('recharge')
    expect(chat.needRecharge).toBe(true)
    expect(chat.messages).toHaveLength(0)
    expect(auth.chatTimes).toBe(0)
  })

  it('keeps the partial answer on an error event and retries in place', async () => {
    await loggedIn(2)
    stubFetch({
      'POST /api/chat/completions': () =>
        sse([
          'event: meta\ndata: {"room_id":"r9","question_id":"q1","answer_id":"a1","model":"m"}\n\n',
          'event: delta\ndata: {"content":"part"}\n\n',
          'event: error\ndata: {"code":"upstream_unavailable","message":"upstream went away"}\n\n',
        ]),
      'GET /api/chat/rooms': () => json(200, []),
    })
    const chat = useChatStore()
    await chat.send('q')
    const failed = chat.messages[1]!
    expect(failed.status).toBe('error')
    expect(failed.content).toBe('part')
    expect(failed.errorCode).toBe('upstream_unavailable')

    const { calls } = stubFetch({
      'POST /api/chat/completions': () =>
        sse([
          'event: meta\ndata: {"room_id":"r9","question_id":"q2","answer_id":"a2","model":"m"}\n\n',
          'event: delta\ndata: {"content":"whole"}\n\n',
          'event: done\ndata: {"usage":null,"remaining_times":1,"finish_reason":"stop"}\n\n',
        ]),
      'GET /api/chat/rooms': () => json(200, []),
    })
    await chat.retry(failed)
    expect(calls[0]!.body).toEqual({ prompt: 'q', room_id: 'r9' })
    expect(chat.messages).toHaveLength(2)
    expect(chat.messages[1]!.content).toBe('whole')
    expect(chat.messages[1]!.status).toBe('done')
  })

  it('treats a body that ends without done as an interrupted stream', async () => {
    await loggedIn(2)
    stubFetch({
      'POST /api/chat/completions': () => sse(['event: delta\ndata: {"content":"half"}\n\n']),
      'GET /api/chat/rooms': () => json(200, []),
    })
    const chat = useChatStore()
    await chat.send('q')
    expect(chat.messages[1]).toMatchObject({ status: 'error', content: 'half', errorCode: 'stream_interrupted' })
  })

  it('stops a stream on request and marks the answer interrupted', async () => {
    await loggedIn(2)
    let signal: AbortSignal | undefined
    stubFetch({
      'POST /api/chat/completions': (req) => {
        signal = req.signal
        // Like a real fetch: the body keeps streaming until the request is aborted, then errors.
        const enc = new TextEncoder()
        return new Response(
          new ReadableStream<Uint8Array>({
            start(c) {
              c.enqueue(enc.encode('event: delta\ndata: {"content":"so far"}\n\n'))
              req.signal?.addEventListener('abort', () => c.error(new DOMException('aborted', 'AbortError')))
            },
          }),
          { status: 200 },
        )
      },
      'GET /api/chat/rooms': () => json(200, []),
    })
    const chat = useChatStore()
    const pending = chat.send('q')
    await vi.waitFor(() => expect(chat.messages[1]?.content).toBe('so far'))
    expect(chat.streaming).toBe(true)
    expect(signal?.aborted).toBe(false)
    chat.stop()
    expect(signal?.aborted).toBe(true)
    expect(await pending).toBe('ok')
    expect(chat.streaming).toBe(false)
    expect(chat.messages[1]).toMatchObject({ status: 'interrupted', content: 'so far' })
  })
})

describe('orders store', () => {
  const products = [
    { id: '11', name: 'Small', description: '10 chats', price: '0.10', reward_use_times: 10, stock: 2, sale: 5 },
    { id: '12', name: 'Large', description: '100 chats', price: '0.20', reward_use_times: 100, stock: 9, sale: 1 },
  ]

  it('caps quantities by stock and totals in integer cents', async () => {
    stubFetch({ 'GET /api/products': () => json(200, { items: products, next_cursor: null }) })
    const orders = useOrdersStore()
    await orders.loadProducts()
    orders.setQuantity('11', 5)
    expect(orders.quantities['11']).toBe(2)
    orders.setQuantity('12', 1)
    orders.setQuantity('11', -3)
    expect(orders.quantities['11']).toBe(0)
    orders.setQuantity('11', 1)
    // 0.10 + 0.20 is 0.30000000000000004 in floats.
    expect(orders.totalText).toBe('0.30')
  })

  it('places an order with a fresh Idempotency-Key per attempt and opens payment', async () => {
    await loggedIn()
    let attempt = 0
    const { calls } = stubFetch({
      'GET /api/products': () => json(200, { items: products, next_cursor: null }),
      'POST /api/orders': () =>
        ++attempt === 1
          ? json(409, { error: { code: 'unpaid_order_exists', message: 'pay it first', order_id: '77' } })
          : json(201, { id: '78', status: 'awaiting_payment', items: [] }),
    })
    const orders = useOrdersStore()
    await orders.loadProducts()
    orders.setQuantity('12', 2)

    expect(await orders.placeOrder()).toBeNull()
    expect(orders.unpaidOrderId).toBe('77')
    expect(orders.payOrderId).toBeNull()

    const order = await orders.placeOrder()
    expect(order?.id).toBe('78')
    expect(orders.payOrderId).toBe('78')

    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts[0]!.body).toEqual({ items: [{ product_id: '12', quantity: 2 }] })
    const k1 = posts[0]!.headers['idempotency-key']
    const k2 = posts[1]!.headers['idempotency-key']
    expect(k1).toMatch(/^[0-9a-f-]{36}$/)
    expect(k2).toMatch(/^[0-9a-f-]{36}$/)
    expect(k1).not.toBe(k2)
  })

  it('offers the existing unpaid order for payment', async () => {
    stubFetch({
      'GET /api/products': () => json(200, { items: products, next_cursor: null }),
      'POST /api/orders': () => json(409, { error: { code: 'unpaid_order_exists', message: 'x', order_id: '5' } }),
    })
    const orders = useOrdersStore()
    await orders.loadProducts()
    orders.setQuantity('11', 1)
    orders.rechargeOpen = true
    await orders.placeOrder()
    orders.payUnpaid()
    expect(orders.rechargeOpen).toBe(false)
    expect(orders.payOrderId).toBe('5')
  })

  it('redeems a code and updates the chat times shown', async () => {
    const auth = await loggedIn(0)
    const { calls } = stubFetch({
      'POST /api/exchange-codes/redeem': () => json(200, { reward_use_times: 10, can_conversation_times: 10 }),
    })
    const orders = useOrdersStore()
    const res = await orders.redeem('  ABCD-EFGH ')
    expect(calls[0]!.body).toEqual({ code: 'ABCD-EFGH' })
    expect(res.reward_use_times).toBe(10)
    expect(auth.chatTimes).toBe(10)
  })

  it('reports redeem failures with the API error code', async () => {
    await loggedIn(0)
    stubFetch({ 'POST /api/exchange-codes/redeem': () => json(409, { error: { code: 'code_used', message: 'used' } }) })
    await expect(useOrdersStore().redeem('X')).rejects.toMatchObject({ status: 409, code: 'code_used' })
  })
})
