/** Test helpers: a fetch stub at the network boundary that records requests and replays scripted responses. */
import { vi } from 'vitest'

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
