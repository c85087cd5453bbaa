/** Test helpers: a fetch stub at the network boundary that records requests and replays scripted responses. */
import { vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { configureHttp } from '@/api/http'
import type { User } from '@/api/types'
import { useAuthStore } from '@/stores/auth'

export interface Recorded {
  url: string
  method: string
  headers: Record<string, string>
  body: unknown
  signal: AbortSignal | undefined
}

type Responder = (req: Recorded) => Response | Promise<Response>

export function json(status: number, body: unknown): Response {
  return new Response(body === undefined ? null : JSON.stringify(body), {
    status,
    headers: { 'Content-Type': 'application/json' },
  })
}

/** An event-stream response whose chunks arrive one by one, each after the previous was read. */
export function sse(chunks: (string | Uint8Array)[]): Response {
  const enc = new TextEncoder()
  let i = 0
  const body = new ReadableStream<Uint8Array>({
    pull(controller) {
      const c = chunks[i++]
      if (c === undefined) controller.close()
      else controller.enqueue(typeof c === 'string' ? enc.encode(c) : c)
    },
  })
  return new Response(body, { status: 200, headers: { 'Content-Type': 'text/event-stream' } })
}

export function stubFetch(routes: Record<string, Responder>) {
  const calls: Recorded[] = []
  const fn = vi.fn(async (input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === 'string' ? input : input instanceof URL ? input.toString() : input.url
    const headers: Record<string, string> = {}
    new Headers(init?.headers).forEach((v, k) => (headers[k.toLowerCase()] = v))
    const raw = init?.body
    const rec: Recorded = {
      url,
      method: (init?.method ?? 'GET').toUpperCase(),
      headers,
      body: typeof raw === 'string' ? JSON.parse(raw) : undefined,
      signal: init?.signal ?? undefined,
    }
    calls.push(rec)
    const path = url.split('?')[0]
    const key = `${rec.method} ${path}`
    const responder = routes[key]
    if (!responder) return json(404, { error: { code: 'not_found', message: `no stub for ${key}` } })
    return responder(rec)
  })
  vi.stubGlobal('fetch', fn)
  return { calls, fn }
}

/** A user as the API answers one; `over` changes fields. */
export function makeUser(over: Partial<User> = {}): User {
  return {
    id: '7',
    email: 'a@example.com',
    nickname: 'A',
    description: null,
    role: 'user',
    can_conversation_times: 3,
    last_login_ip: null,
    created_at: '2026-01-01T00:00:00Z',
    ...over,
  }
}

/** Signs `user` in through the auth store against a stubbed login answering `token`; the stub is gone afterwards. */
export async function signIn(user: User, token = 't') {
  stubFetch({ 'POST /api/auth/login': () => json(200, { token, expires_at: '2030-01-01T00:00:00Z', user }) })
  const auth = useAuthStore()
  await auth.login('a@example.com', 'password1')
  vi.unstubAllGlobals()
  return auth
}

/** Nothing saved, new stores, and requests carrying the auth store's token (signed out on a 401). */
export function freshStores() {
  localStorage.clear()
  setActivePinia(createPinia())
  const auth = useAuthStore()
  configureHttp({ token: () => auth.token, unauthorized: () => auth.clear() })
}
