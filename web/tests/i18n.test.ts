import { afterEach, describe, expect, it, vi } from 'vitest'
import { ApiError, request } from '@/api/http'
import { errorText, fieldErrorsOf } from '@/composables/useErrorText'
import { detectLocale, initialLocale, setLocale } from '@/locales'
import zhCN from '@/locales/zh-CN'
import en from '@/locales/en'
import { stubFetch } from './helpers'

/** Every dotted key of a message tree. */
function keysOf(tree: object, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    v && typeof v === 'object' ? keysOf(v as object, `${prefix}${k}.`) : [`${prefix}${k}`],
  )
}

const hasLatinWords = (s: string) => /[A-Za-z]{3,}/.test(s)

afterEach(() => {
  vi.unstubAllGlobals()
  setLocale('zh-CN')
  localStorage.clear()
})

describe('locales', () => {
  it('zh-CN and en have the same keys', () => {
    expect(keysOf(en).sort()).toEqual(keysOf(zhCN).sort())
  })
})

describe('the first language', () => {
  it('follows the browser: zh* is Chinese, anything else English', () => {
    expect(detectLocale(['zh-CN', 'en'])).toBe('zh-CN')
    expect(detectLocale(['zh-TW'])).toBe('zh-CN')
    expect(detectLocale(['zh'])).toBe('zh-CN')
    expect(detectLocale(['en-US', 'zh-CN'])).toBe('en')
    expect(detectLocale(['fr-FR'])).toBe('en')
    expect(detectLocale([])).toBe('en')
  })

  it('uses navigator.languages until the user picks a language, then the pick', () => {
    localStorage.clear()
    vi.stubGlobal('navigator', { ...navigator, languages: ['en-GB', 'en'], language: 'en-GB' })
    expect(initialLocale()).toBe('en')
    vi.stubGlobal('navigator', { ...navigator, languages: ['zh-HK'], language: 'zh-HK' })
    expect(initialLocale()).toBe('zh-CN')
    setLocale('en')
    expect(initialLocale()).toBe('en')
  })
})

describe('error texts', () => {
  it('never append the English server text in the Chinese UI', () => {
    setLocale('zh-CN')
    const invalidCode = new ApiError(400, { code: 'invalid_code', message: 'code: no such code', fields: { code: 'no such code' } })
    expect(errorText(invalidCode)).toBe('验证码或兑换码无效')
    const badId = new ApiError(400, { code: 'invalid_request', message: 'user_id: not an id', fields: { user_id: 'not an id' } })
    expect(errorText(badId)).toBe('请求无效：用户 ID 应为数字')
    const oddField = new ApiError(400, { code: 'invalid_request', message: 'zzz: bad', fields: { zzz: 'bad' } })
    expect(hasLatinWords(errorText(oddField))).toBe(false)
    const plain = new ApiError(400, { code: 'invalid_request', message: 'the body is not valid JSON' })
    expect(errorText(plain)).toBe('请求无效')
  })

  it('are in English in the English UI', () => {
    setLocale('en')
    const badId = new ApiError(400, { code: 'invalid_request', message: 'user_id: not an id', fields: { user_id: 'not an id' } })
    expect(errorText(badId)).toBe('Invalid request: A user ID is a number')
    expect(errorText(new ApiError(409, { code: 'order_in_progress', message: 'x' }))).toBe(
      'Your previous order is still being placed; try again in a moment',
    )
  })

  it('keep the server text only for a code we do not know', () => {
    setLocale('zh-CN')
    expect(errorText(new ApiError(418, { code: 'teapot', message: 'short and stout' }))).toBe('出错了：short and stout')
  })

  it('map every code the services send', () => {
    setLocale('zh-CN')
    for (const code of ['order_in_progress', 'busy', 'payload_too_large', 'upstream_error', 'upstream_timeout', 'word_exists']) {
      const text = errorText(new ApiError(400, { code, message: 'English text' }))
      expect(text, code).not.toContain('English')
      expect(hasLatinWords(text), code).toBe(false)
    }
  })

  it('an error page without JSON (the edge) becomes a known code', async () => {
    setLocale('zh-CN')
    stubFetch({
      'GET /api/a': () => new Response('<html>Bad Gateway</html>', { status: 502, statusText: 'Bad Gateway' }),
      'GET /api/b': () => new Response('', { status: 413, statusText: 'Payload Too Large' }),
      'GET /api/c': () => new Response('', { status: 429, statusText: 'Too Many Requests' }),
    })
    for (const [path, code] of [['/api/a', 'service_unavailable'], ['/api/b', 'payload_too_large'], ['/api/c', 'rate_limited']]) {
      const e = await request(path!).catch((x: unknown) => x)
      expect(e).toBeInstanceOf(ApiError)
      expect((e as ApiError).code).toBe(code)
      expect(hasLatinWords(errorText(e))).toBe(false)
    }
  })

  it('field problems are localized per field, for showing at the field', () => {
    setLocale('zh-CN')
    const e = new ApiError(400, {
      code: 'invalid_request',
      message: 'name: 1 to 30 characters',
      fields: { name: '1 to 30 characters', reward_use_times: 'must be 1 to 1000000' },
    })
    expect(fieldErrorsOf(e)).toEqual({ name: '名称应为 1 到 30 个字', reward_use_times: '对话次数应为 1 到 1000000' })
    setLocale('en')
    expect(fieldErrorsOf(e).name).toBe('A name has 1 to 30 characters')
    expect(fieldErrorsOf(new Error('x'))).toEqual({})
  })
})
