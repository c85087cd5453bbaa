import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, nextTick } from 'vue'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import AccountView from '@/views/AccountView.vue'
import { changePassword, listTimesHistory } from '@/api/users'
import { useAuthStore } from '@/stores/auth'
import { codeExpiry } from '@/utils/codes'
import { translate } from '@/locales'
import type { TimesEntry, User } from '@/api/types'
import { json, stubFetch } from './helpers'

const user: User = {
  id: '7',
  email: 'a@example.com',
  nickname: 'Ann',
  description: 'hello',
  role: 'user',
  can_conversation_times: 4,
  last_login_ip: null,
  created_at: '2026-01-01T00:00:00Z',
}

function entry(kind: TimesEntry['kind'], times: number, n: number): TimesEntry {
  return {
    id: `${kind}:${n}`,
    kind,
    times,
    created_at: `2026-01-0${n}T00:00:00Z`,
    label: kind === 'redeemed' || kind === 'bought' ? 'Starter' : 'Chat about cats',
    room_id: kind === 'spent' || kind === 'returned' ? 'r1' : null,
    answer_id: null,
  }
}

const Host = defineComponent({
  setup: () => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(AccountView))),
})

let wrapper: VueWrapper | null = null

beforeEach(() => {
  setActivePinia(createPinia())
  const auth = useAuthStore()
  auth.token = 'tok'
  auth.user = { ...user }
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
})

describe('account api', () => {
  it('changes the password with the current one', async () => {
    const { calls } = stubFetch({ 'POST /api/users/me/password': () => new Response(null, { status: 204 }) })
    await expect(changePassword('old password', 'new password')).resolves.toBeUndefined()
    expect(calls[0]!.body).toEqual({ current_password: 'old password', new_password: 'new password' })
  })

  it('reads the times history page by page', async () => {
    const { calls } = stubFetch({
      'GET /api/users/me/times-history': () => json(200, { items: [entry('spent', -1, 1)], next_cursor: null }),
    })
    const page = await listTimesHistory('c1')
    expect(page.items).toHaveLength(1)
    expect(calls[0]!.url).toContain('cursor=c1')
  })
})

describe('code expiry', () => {
  const now = new Date('2026-06-01T00:00:00Z')
  it('says never, until a date, or expired', () => {
    expect(codeExpiry({ expires_at: null, used: false }, now)).toEqual({ state: 'never', at: null })
    expect(codeExpiry({ expires_at: '2026-07-01T00:00:00Z', used: false }, now)).toEqual({ state: 'valid', at: '2026-07-01T00:00:00Z' })
    expect(codeExpiry({ expires_at: '2026-05-01T00:00:00Z', used: false }, now)).toEqual({ state: 'expired', at: '2026-05-01T00:00:00Z' })
    // A used code has nothing left to expire.
    expect(codeExpiry({ expires_at: '2026-05-01T00:00:00Z', used: true }, now).state).toBe('used')
  })
})

describe('the account page', () => {
  async function mounted(routes: Parameters<typeof stubFetch>[0]) {
    const stub = stubFetch({
      'GET /api/users/me/times-history': () =>
        json(200, { items: [entry('returned', 1, 4), entry('spent', -1, 3), entry('redeemed', 5, 2), entry('bought', 5, 1)], next_cursor: null }),
      ...routes,
    })
    wrapper = mount(Host, { attachTo: document.body, global: { stubs: { RouterLink: { template: '<a><slot /></a>' } } } })
    await flushPromises()
    await nextTick()
    return stub
  }

  it('shows the profile and the chat times history', async () => {
    await mounted({})
    expect((wrapper!.find('[data-testid="account-nickname"] input').element as HTMLInputElement).value).toBe('Ann')
    expect((wrapper!.find('[data-testid="account-description"] input').element as HTMLInputElement).value).toBe('hello')
    const rows = wrapper!.findAll('[data-testid="history-item"]')
    expect(rows.map((r) => r.attributes('data-kind'))).toEqual(['returned', 'spent', 'redeemed', 'bought'])
    expect(rows[1]!.text()).toContain('-1')
    expect(rows[2]!.text()).toContain('+5')
    expect(rows[2]!.text()).toContain(translate('account.kind.redeemed'))
  })

  it('saves the nickname and description', async () => {
    const { calls } = await mounted({
      'PATCH /api/users/me': (req) => json(200, { ...user, ...(req.body as object) }),
    })
    await wrapper!.find('[data-testid="account-nickname"] input').setValue('Bea')
    await wrapper!.find('[data-testid="account-description"] input').setValue('new words')
    await wrapper!.find('[data-testid="account-profile-save"]').trigger('click')
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ nickname: 'Bea', description: 'new words' })
    expect(useAuthStore().user?.nickname).toBe('Bea')
  })

  it('changes the password, and says so when the current one is wrong', async () => {
    let status = 403
    const { calls } = await mounted({
      'POST /api/users/me/password': () =>
        status === 204
          ? new Response(null, { status: 204 })
          : json(403, { error: { code: 'invalid_credentials', message: 'the current password is wrong' } }),
    })
    const fill = async (current: string, next: string, again: string) => {
      await wrapper!.find('[data-testid="password-current"] input').setValue(current)
      await wrapper!.find('[data-testid="password-new"] input').setValue(next)
      await wrapper!.find('[data-testid="password-again"] input').setValue(again)
      await wrapper!.find('[data-testid="password-save"]').trigger('click')
      await flushPromises()
    }
    // Too short, or not typed the same twice: nothing is sent.
    await fill('old password', 'short', 'short')
    await fill('old password', 'new password 1', 'new password 2')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)
    expect(wrapper!.find('[data-testid="password-error"]').text()).toBe(translate('account.passwordMismatch'))

    await fill('wrong password', 'new password 1', 'new password 1')
    expect(wrapper!.find('[data-testid="password-error"]').text()).toBe(translate('account.currentWrong'))
    // Still signed in: a wrong current password is not an ended session.
    expect(useAuthStore().isLoggedIn).toBe(true)

    status = 204
    await fill('old password', 'new password 1', 'new password 1')
    expect(wrapper!.find('[data-testid="password-error"]').exists()).toBe(false)
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(2)
  })
})
