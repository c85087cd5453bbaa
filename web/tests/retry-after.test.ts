import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, request } from '@/api/http'
import { errorText } from '@/composables/useErrorText'
import { setLocale } from '@/locales'
import { stubFetch } from './helpers'

function refused(status: number, code: string, retryAfter?: string): Response {
  const headers: Record<string, string> = { 'Content-Type': 'application/json' }
  if (retryAfter !== undefined) headers['Retry-After'] = retryAfter
  return new Response(JSON.stringify({ error: { code, message: code } }), { status, headers })
}

async function failure(res: () => Response): Promise<ApiError> {
  stubFetch({ 'POST /api/x': res })
  try {
    await request('/api/x', { method: 'POST', body: {} })
  } catch (e) {
    if (e instanceof ApiError) return e
    throw e
  }
  throw new Error('the request did not fail')
}

afterEach(() => {
  vi.unstubAllGlobals()
  vi.useRealTimers()
  setLocale('zh-CN')
  localStorage.clear()
})

describe('being told to wait', () => {
  it('reads Retry-After seconds from a 429 and says when to try again', async () => {
    const e = await failure(() => refused(429, 'rate_limited', '42'))
    expect(e.retryAfterSecs).toBe(42)
    setLocale('en')
    expect(errorText(e)).toContain('try again in 42 s')
    setLocale('zh-CN')
    expect(errorText(e)).toContain('请在 42 秒后重试')
  })

  it('says minutes for a longer wait', async () => {
    const e = await failure(() => refused(429, 'rate_limited', '900'))
    setLocale('en')
    expect(errorText(e)).toContain('try again in 15 min')
    setLocale('zh-CN')
    expect(errorText(e)).toContain('请在 15 分钟后重试')
  })

  it('reads an HTTP date too, and a 503 busy carries the wait as well', async () => {
    vi.useFakeTimers({ toFake: ['Date'] })
    vi.setSystemTime(new Date('2025-01-01T00:00:00Z'))
    const e = await failure(() => refused(503, 'busy', 'Wed, 01 Jan 2025 00:00:07 GMT'))
    expect(e.retryAfterSecs).toBe(7)
    setLocale('en')
    expect(errorText(e)).toContain('try again in 7 s')
  })

  it('without Retry-After the message stays as it was', async () => {
    const e = await failure(() => refused(429, 'rate_limited'))
    expect(e.retryAfterSecs).toBeUndefined()
    setLocale('en')
    expect(errorText(e)).toBe('Too many attempts; try again later')
  })
})
