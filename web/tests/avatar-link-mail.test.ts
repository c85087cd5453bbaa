import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import AvatarCard from '@/components/AvatarCard.vue'
import UserAvatar from '@/components/UserAvatar.vue'
import OAuthDoneView from '@/views/OAuthDoneView.vue'
import OAuthLinkView from '@/views/OAuthLinkView.vue'
import { router } from '@/router'
import { uploadAvatar } from '@/api/users'
import { useAuthStore } from '@/stores/auth'
import { setLocale } from '@/locales'
import { freshStores, json, makeUser, signIn, stubFetch } from './helpers'

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

/** Puts `file` in the page's hidden file input and fires its change. */
async function choose(w: VueWrapper, file: File) {
  const input = w.find('[data-testid="avatar-file"]')
  Object.defineProperty(input.element, 'files', { value: [file], configurable: true })
  await input.trigger('change')
  await flushPromises()
}

beforeEach(() => {
  freshStores()
  setLocale('en')
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
  setLocale('zh-CN')
})

describe('avatars', () => {
  it('uploads the file as multipart with the session, not as JSON', async () => {
    await signIn(makeUser(), 'tok')
    const { fn } = stubFetch({ 'POST /api/users/me/avatar': () => json(200, makeUser({ avatar_url: '/api/users/7/avatar?v=1' })) })
    const user = await uploadAvatar(new Blob([new Uint8Array([137, 80, 78, 71])], { type: 'image/png' }), 'me.png')
    expect(user.avatar_url).toBe('/api/users/7/avatar?v=1')
    const init = fn.mock.calls[0]![1] as RequestInit
    expect(init.body).toBeInstanceOf(FormData)
    expect((init.body as FormData).get('file')).toBeInstanceOf(Blob)
    const headers = new Headers(init.headers)
    expect(headers.get('content-type')).toBeNull()
    expect(headers.get('authorization')).toBe('Bearer tok')
  })

  it('shows the new versioned picture after an upload, and the server’s refusal in words', async () => {
    await signIn(makeUser())
    let n = 0
    stubFetch({
      'POST /api/users/me/avatar': () =>
        ++n === 1
          ? json(200, makeUser({ avatar_url: '/api/users/7/avatar?v=1' }))
          : json(400, { error: { code: 'invalid_image', message: 'm', fields: { file: 'x' } } }),
    })
    const w = mount(host(AvatarCard))
    wrapper = w
    expect(w.find('[data-testid="account-avatar"]').attributes('data-avatar')).toBe('initial')
    await choose(w, new File([new Uint8Array(10)], 'me.png', { type: 'image/png' }))
    expect(useAuthStore().user?.avatar_url).toBe('/api/users/7/avatar?v=1')
    await vi.waitFor(() => expect(w.find('[data-testid="account-avatar"] img').attributes('src')).toBe('/api/users/7/avatar?v=1'))

    await choose(w, new File(['<html>'], 'evil.png', { type: 'image/png' }))
    expect(w.find('[data-testid="avatar-error"]').text()).toContain('not a PNG, JPEG or WebP')
    expect(useAuthStore().user?.avatar_url).toBe('/api/users/7/avatar?v=1')
  })

  it('refuses a file over 2 MiB before sending it', async () => {
    await signIn(makeUser())
    const { calls } = stubFetch({})
    const w = mount(host(AvatarCard))
    wrapper = w
    await choose(w, new File([new Uint8Array(2 * 1024 * 1024 + 1)], 'big.png', { type: 'image/png' }))
    expect(w.find('[data-testid="avatar-error"]').text()).toContain('over 2 MB')
    expect(calls).toHaveLength(0)
  })

  it('falls back to the nickname’s first letter', () => {
    const w = mount(UserAvatar, { props: { user: { nickname: 'zoe', avatar_url: null } } })
    expect(w.text()).toBe('Z')
    w.unmount()
  })
})

describe('proving the account by a mailed link', () => {
  it('mails a link instead of asking the password, and signs nobody in', async () => {
    const { calls } = stubFetch({
      'POST /api/auth/oauth/exchange': () => json(409, { error: { code: 'link_required', message: 'm', email: 'alice@sandbox.test' } }),
      'POST /api/auth/oauth/link-mail': () => json(202, { email: 'alice@sandbox.test' }),
    })
    const w = await mountAt('/oauth/done?ticket=tk', OAuthDoneView)
    await w.find('[data-testid="oauth-link-mail"]').trigger('click')
    await flushPromises()
    expect(calls.at(-1)!.body).toEqual({ ticket: 'tk' })
    expect(w.find('[data-testid="oauth-link-mailed"]').text()).toContain('alice@sandbox.test')
    expect(useAuthStore().token).toBeNull()
  })

  it('the mailed link’s page links on a click, signs in and goes on', async () => {
    const user = makeUser()
    const { calls } = stubFetch({
      'POST /api/auth/oauth/link-confirm': () => json(200, { token: 'linked', expires_at: '', user, return_to: '/account' }),
      'GET /api/users/me': () => json(200, user),
    })
    const w = await mountAt('/oauth/link?code=abc', OAuthLinkView)
    // Opening the page alone uses nothing (mail scanners open links).
    expect(calls).toHaveLength(0)
    await w.find('[data-testid="oauth-link-confirm"]').trigger('click')
    await flushPromises()
    expect(calls[0]!.body).toEqual({ code: 'abc' })
    expect(useAuthStore().token).toBe('linked')
    await vi.waitFor(() => expect(router.currentRoute.value.path).toBe('/account'), { timeout: 5000 })
  })

  it('says so when the link was used or expired', async () => {
    stubFetch({ 'POST /api/auth/oauth/link-confirm': () => json(400, { error: { code: 'expired_code', message: 'm', fields: { code: 'x' } } }) })
    const w = await mountAt('/oauth/link?code=abc', OAuthLinkView)
    await w.find('[data-testid="oauth-link-confirm"]').trigger('click')
    await flushPromises()
    expect(w.find('[data-testid="oauth-link-failed"]').text()).toContain('expired')
    expect(useAuthStore().token).toBeNull()
  })
})
