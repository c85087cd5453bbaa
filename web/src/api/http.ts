/**
 * The one place that talks HTTP: attaches the bearer token, encodes JSON bodies and turns
 * the API's error JSON (`{"error": {"code", "message", "fields?"}}`) into a typed ApiError.
 */

export interface ApiErrorBody {
  code: string
  message: string
  fields?: Record<string, string>
  /** Extra members some errors carry, e.g. `order_id` on `unpaid_order_exists`. */
  [extra: string]: unknown
}

export class ApiError extends Error {
  readonly status: number
  readonly code: string
  readonly fields: Record<string, string>
  readonly body: ApiErrorBody
  /** Seconds to wait before trying again, from the answer's Retry-After (429, 503 `busy`). */
  readonly retryAfterSecs?: number

  constructor(status: number, body: ApiErrorBody, retryAfterSecs?: number) {
    super(body.message || body.code)
    this.name = 'ApiError'
    this.status = status
    this.code = body.code
    this.fields = body.fields ?? {}
    this.body = body
    if (retryAfterSecs !== undefined) this.retryAfterSecs = retryAfterSecs
  }

  /** A string member of the error object (or the top level), e.g. `order_id`. */
  detail(name: string): string | undefined {
    const v = this.body[name]
    return typeof v === 'string' || typeof v === 'number' ? String(v) : undefined
  }
}

type TokenSource = () => string | null
type UnauthorizedHook = () => void

let tokenSource: TokenSource = () => null
let onUnauthorized: UnauthorizedHook = () => {}

/** Wire the auth store in without the api layer importing it. */
export function configureHttp(opts: { token: TokenSource; unauthorized: UnauthorizedHook }): void {
  tokenSource = opts.token
  onUnauthorized = opts.unauthorized
}

export interface RequestOptions {
  method?: string
  body?: unknown
  query?: Record<string, string | number | undefined | null>
  headers?: Record<string, string>
  signal?: AbortSignal
}

function buildUrl(path: string, query?: RequestOptions['query']): string {
  if (!query) return path
  const params = new URLSearchParams()
  for (const [k, v] of Object.entries(query)) {
    if (v !== undefined && v !== null && v !== '') params.set(k, String(v))
  }
  const qs = params.toString()
  return qs ? `${path}?${qs}` : path
}

/** Retry-After as whole seconds from now: delta-seconds or an HTTP date; undefined when absent or unreadable. */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  const v = value?.trim()
  if (!v) return undefined
  if (/^\d+$/.test(v)) return Number(v)
  const at = Date.parse(v)
  if (Number.isNaN(at)) return undefined
  return Math.max(0, Math.ceil((at - now) / 1000))
}

async function toApiError(res: Response): Promise<ApiError> {
  const retryAfter = parseRetryAfter(res.headers.get('Retry-After'))
  let parsed: unknown = null
  try {
    parsed = await res.json()
  } catch {
    parsed = null
  }
  if (parsed && typeof parsed === 'object' && 'error' in parsed) {
    const err = (parsed as { error: unknown }).error
    if (err && typeof err === 'object' && 'code' in err) {
      const body = { ...(err as ApiErrorBody) }
      // Some services put extras (order_id, product_id) beside `error` rather than inside it.
      for (const [k, v] of Object.entries(parsed as Record<string, unknown>)) {
        if (k !== 'error' && !(k in body)) body[k] = v
      }
      return new ApiError(res.status, body, retryAfter)
    }
  }
  return new ApiError(res.status, { code: codeForStatus(res.status), message: res.statusText || `HTTP ${res.status}` }, retryAfter)
}

/** A code for an answer without our error JSON (e.g. the edge's own error page), so it reads in the UI's language. */
function codeForStatus(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request'
    case 401:
      return 'unauthorized'
    case 403:
      return 'forbidden'
    case 404:
      return 'not_found'
    case 413:
      return 'payload_too_large'
    case 429:
      return 'rate_limited'
    case 502:
    case 503:
    case 504:
      return 'service_unavailable'
    default:
      return status >= 500 ? 'internal' : `http_${status}`
  }
}

/**
 * Sends a request and returns the raw Response when it is 2xx; otherwise throws ApiError.
 * The streaming chat call uses this directly so it can read the body itself.
 */
export async function send(path: string, opts: RequestOptions = {}): Promise<Response> {
  const headers: Record<string, string> = { Accept: 'application/json', ...opts.headers }
  const token = tokenSource()
  if (token) headers.Authorization = `Bearer ${token}`
  let body: string | FormData | undefined
  if (opts.body instanceof FormData) {
    // The browser writes the multipart Content-Type with its boundary.
    body = opts.body
  } else if (opts.body !== undefined) {
    headers['Content-Type'] = 'application/json'
    body = JSON.stringify(opts.body)
  }
  let res: Response
  try {
    res = await fetch(buildUrl(path, opts.query), {
      method: opts.method ?? (body === undefined ? 'GET' : 'POST'),
      headers,
      body,
      signal: opts.signal,
    })
  } catch (e) {
    if (e instanceof DOMException && e.name === 'AbortError') throw e
    throw new ApiError(0, { code: 'network_error', message: e instanceof Error ? e.message : String(e) })
  }
  if (!res.ok) {
    const err = await toApiError(res)
    if (res.status === 401 && token) onUnauthorized()
    throw err
  }
  return res
}

/** JSON request; 204 and empty bodies resolve to undefined. */
export async function request<T>(path: string, opts: RequestOptions = {}): Promise<T> {
  const res = await send(path, opts)
  if (res.status === 204) return undefined as T
  const text = await res.text()
  if (!text) return undefined as T
  return JSON.parse(text) as T
}

/** Items per page for the lists shown page by page ("load more"). */
export const PAGE_SIZE = 20

/** One page of a list: `{items, next_cursor}`; a bare array is the only page. */
export function pageOf<T>(v: { items?: T[]; next_cursor?: string | null } | T[] | null | undefined): { items: T[]; next_cursor: string | null } {
  if (!v) return { items: [], next_cursor: null }
  if (Array.isArray(v)) return { items: v, next_cursor: null }
  return { items: v.items ?? [], next_cursor: v.next_cursor ?? null }
}

/** Lists are `{items, next_cursor}`; accept a bare array too. */
export function itemsOf<T>(v: { items: T[] } | T[] | null | undefined): T[] {
  if (!v) return []
  return Array.isArray(v) ? v : (v.items ?? [])
}
