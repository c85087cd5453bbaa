import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { register } from '@/api/auth'
import { useAuthStore } from '@/stores/auth'
import { setLocale } from '@/locales'
import { freshStores, json, makeUser, stubFetch } from './helpers'

const user = makeUser({ locale: 'zh-CN' })

beforeEach(() => {
  freshStores()
})

afterEach(() => {
  // Signed out first: switching back below must not reach the network.
  useAuthStore().clear()
  vi.unstubAllGlobals()
  setLocale('zh-CN')
  localStorage.clear()
})

describe("the user's language", () => {
  it('goes with a registration: the UI language of the moment', async () => {
    const { calls } = stubFetch({ 'POST /api/auth/register': () => json(201, { user_id: '7' }) })
    setLocale('en')
    await register({ email: 'a@example.com', password: 'correct horse' })
    setLocale('zh-CN')
    await register({ email: 'b@example.com', password: 'correct horse' })
    expect(calls.map((c) => (c.body as { locale?: string }).locale)).toEqual(['en', 'zh-CN'])
  })

  it('is saved on the account when a signed-in user switches language', async () => {
    const { calls } = stubFetch({
      'POST /api/auth/login': () => json(200, { token: 't', expires_at: '2030-01-01T00:00:00Z', user }),
      'PATCH /api/users/me': (req) => json(200, { ...user, ...(req.body as object) }),
    })
    const auth = useAuthStore()
    await auth.login('a@example.com', 'correct horse')
    setLocale('en')
    await vi.waitFor(() => expect(auth.user?.locale).toBe('en'))
    const patches = calls.filter((c) => c.method === 'PATCH')
    expect(patches.map((c) => c.body)).toEqual([{ locale: 'en' }])
    // The same language again: nothing to save.
    setLocale('en')
    await Promise.resolve()
    expect(calls.filter((c) => c.method === 'PATCH')).toHaveLength(1)
  })

  it('is not sent for a visitor who is not signed in', async () => {
    const { calls } = stubFetch({})
    setLocale('en')
    await Promise.resolve()
    expect(calls).toHaveLength(0)
  })
})
