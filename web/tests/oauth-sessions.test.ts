import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h } from 'vue'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import OAuthDoneView from '@/views/OAuthDoneView.vue'
import SessionsList from '@/components/SessionsList.vue'
import OAuthButtons from '@/components/OAuthButtons.vue'
import { router } from '@/router'
import { exchangeTicket, startUrl } from '@/api/oauth'
import { endOtherSessions } from '@/api/sessions'
import { useAuthStore } from '@/stores/auth'
import { setLocale } from '@/locales'
import type { User } from '@/api/types'
import { json, stubFetch } from './helpers'

const user: User = {
  id: '7',
  email: 'alice@sandbox.test',
  nickname: 'Alice',
  description: null,
  role: 'user',
  can_conversation_times: 0,
  last_login_ip: null,
  created_at: '2026-01-01T00:00:00Z',
}

let wrapper: VueWrapper | null = null

function host(component: object) {
  return defineComponent({ setup: () => () => h(NMessageProvider, null, () => h(component)) })
}

async function mountAt(path: string, component: object) {
  await router.push(path)
  wrapper = mount(host(component), { global: { plugins: [router] } })
  await flushPromises()
  return wrapper
}

beforeEach(() => {
  setActivePinia(createPinia())
  setLocale('en')
  localStorage.clear()
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
  setLocale('zh-CN')
})

describe('sign-in provider api', () => {
  it('sends the password only when linking', async () => {
    const { calls } = stubFetch({ 'POST /api/auth/oauth/exchange': () => json(200, { token: 't', expires_at: '', user, return_to: '/chat' }) })
    await exchangeTicket('tk')
    await exchangeTicket('tk', 'secret pw')
    expect(calls[0]!.body).toEqual({ ticket: 'tk' })
    expect(calls[1]!.body).toEqual({ ticket: 'tk', password: 'secret pw' })
  })

  it('starts at the API with the path to come back to', () => {
    expect(startUrl('sandbox', '/chat?x=1')).toBe('/api/auth/oauth/sandbox/start?return_to=%2Fchat%3Fx%3D1')
  })

  it('ends the other sessions with others=true', async () => {
    const { calls } = stubFetch({ 'DELETE /api/users/me/sessions': () => new Response(null, { status: 204 }) })
    await endOtherSessions()
    expect(calls[0]!.url).toContain('others=true')
  })
})

describe('the login page buttons', () => {
  it('offers each configured provider', async () => {
    stubFetch({ 'GET /api/auth/providers': () => json(200, { items: [{ id: 'sandbox', name: 'Sandbox OIDC', kind: 'oidc' }] }) })
    wrapper = mount(OAuthButtons, { props: { returnTo: '/codes' } })
    await flushPromises()
    const a = wrapper.find('[data-testid="oauth-sandbox"]')
    expect(a.text()).toBe('Continue with Sandbox OIDC')
    expect(a.attributes('href')).toBe('/api/auth/oauth/sandbox/start?return_to=%2Fcodes')
  })

  it('shows nothing when none is configured', async () => {
    stubFetch({ 'GET /api/auth/providers': () => json(200, { items: [] }) })
    wrapper = mount(OAuthButtons)
    await flushPromises()
    expect(wrapper.find('[data-testid="oauth-buttons"]').exists()).toBe(false)
  })
})

describe('/oauth/done', () => {
  it('exchanges the ticket and goes where the sign-in started', async () => {
    stubFetch({
      'POST /api/auth/oauth/exchange': () => json(200, { token: 'new-token', expires_at: '', user, return_to: '/codes' }),
      'GET /api/users/me': () => json(200, user),
    })
    await mountAt('/oauth/done?ticket=tk', OAuthDoneView)
    await flushPromises()
    expect(useAuthStore().token).toBe('new-token')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/codes'), { timeout: 5000 })
  })

  it('asks for the existing account’s password before linking', async () => {
    let n = 0
    const { calls } = stubFetch({
      'POST /api/auth/oauth/exchange': (req) => {
        n++
        const body = req.body as { password?: string }
        if (!body.password) return json(409, { error: { code: 'link_required', message: 'm', email: 'alice@sandbox.test' } })
        if (body.password !== 'right password') return json(401, { error: { code: 'invalid_credentials', message: 'm' } })
        return json(200, { token: 'linked-token', expires_at: '', user, return_to: '/chat' })
      },
      'GET /api/users/me': () => json(200, user),
    })
    const w = await mountAt('/oauth/done?ticket=tk', OAuthDoneView)
    expect(w.find('[data-testid="oauth-link-email"]').text()).toContain('alice@sandbox.test')
    expect(useAuthStore().token).toBeNull()

    await w.find('[data-testid="oauth-link-password"] input').setValue('wrong')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(w.find('[data-testid="oauth-link-error"]').exists()).toBe(true)
    expect(useAuthStore().token).toBeNull()

    await w.find('[data-testid="oauth-link-password"] input').setValue('right password')
    await w.find('form').trigger('submit')
    await flushPromises()
    expect(n).toBe(3)
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts.at(-1)!.body).toEqual({ ticket: 'tk', password: 'right password' })
    expect(useAuthStore().token).toBe('linked-token')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/chat'), { timeout: 5000 })
  })

  it('says why a sign-in did not complete', async () => {
    stubFetch({})
    const w = await mountAt('/oauth/done?error=invalid_id_token', OAuthDoneView)
    expect(w.find('[data-testid="oauth-failed"]').text()).toContain('could not be trusted')
  })
})

describe('the sessions list', () => {
  it('marks this device and signs another out', async () => {
    const items = [
      { id: 'a1', created_at: '2026-01-01T00:00:00Z', last_seen_at: '2026-01-02T00:00:00Z', ip: '127.0.0.1', user_agent: 'Mozilla/5.0 (X11; Linux x86_64) Chrome/150.0', current: true },
      { id: 'b2', created_at: '2026-01-01T00:00:00Z', last_seen_at: '2026-01-01T00:00:00Z', ip: '10.0.0.2', user_agent: null, current: false },
    ]
    const { calls } = stubFetch({
      'GET /api/users/me/sessions': () => json(200, { items }),
      'DELETE /api/users/me/sessions/b2': () => {
        items.pop()
        return new Response(null, { status: 204 })
      },
    })
    wrapper = mount(host(SessionsList))
    await flushPromises()
    const rows = wrapper.findAll('[data-testid="session-item"]')
    expect(rows).toHaveLength(2)
    expect(rows[0]!.text()).toContain('Chrome · Linux')
    expect(rows[0]!.text()).toContain('This device')
    expect(rows[1]!.text()).toContain('Unknown browser')
    await rows[1]!.find('[data-testid="session-end"]').trigger('click')
    await flushPromises()
    expect(calls.some((c) => c.method === 'DELETE' && c.url.endsWith('/api/users/me/sessions/b2'))).toBe(true)
    expect(wrapper.findAll('[data-testid="session-item"]')).toHaveLength(1)
  })
})
