import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { adjustmentValid, type AdminUser, type AdminUserDetail } from '@/api/adminUsers'
import { json, stubFetch } from './helpers'
import { adminPageHooks, mounted, byTestId, typeInto, click } from './admin-page'

const { default: AdminUsersView } = await import('@/views/admin/AdminUsersView.vue')

function user(id: string, over: Partial<AdminUser> = {}): AdminUser {
  return {
    id, email: `u${id}@example.com`, nickname: `u${id}`, description: null, role: 'user',
    can_conversation_times: 3, last_login_ip: null, created_at: '2026-11-20T08:00:00.000Z',
    disabled: false, orders: 2, paid_total: '9.90', ...over,
  }
}

function detail(over: Partial<AdminUserDetail> = {}): AdminUserDetail {
  return {
    ...user('7'),
    bindings: [{ kind: 'email', provider: null, email: 'u7@example.com', verified: true, created_at: '2026-11-20T08:00:00.000Z' }],
    recent_logins: [{ kind: 'email', ip: '10.0.0.9', success: true, message: 'success', created_at: '2026-11-25T08:00:00.000Z' }],
    recent_orders: [{ id: '501', total_amount: '9.90', pay_amount: '9.90', status: 'completed', paid_at: null, created_at: '2026-11-24T08:00:00.000Z' }],
    times_ledger: [{ id: '88', delta: 5, reason: 'goodwill', actor_id: '1', created_at: '2026-11-25T09:00:00.000Z' }],
    ...over,
  }
}

adminPageHooks()

async function usersPage() {
  const Host = defineComponent({ setup: () => () => h(NMessageProvider, null, () => h(AdminUsersView)) })
  mounted.wrapper = mount(Host, { attachTo: document.body })
  await flushPromises()
}

describe('admin users page', () => {
  it('searches by email or id and lists the figures', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/users': (req) =>
        json(200, { items: req.url.includes('q=u7') ? [user('7')] : [user('7'), user('8', { disabled: true })], next_cursor: null }),
    })
    await usersPage()
    expect(document.querySelectorAll('[data-testid="admin-user-row"]')).toHaveLength(2)
    expect(document.body.textContent).toContain('¥9.90')
    expect(document.body.textContent).toContain('Disabled')
    await typeInto('admin-users-q', 'u7')
    await click('admin-users-search')
    expect(calls.at(-1)!.url).toContain('q=u7')
    expect(document.querySelectorAll('[data-testid="admin-user-row"]')).toHaveLength(1)
    expect(calls[0]!.headers.authorization).toBe('Bearer admin-token')
  })

  it('shows the detail and adjusts chat times only with a reason', async () => {
    let balance = 3
    const { calls } = stubFetch({
      'GET /api/admin/users': () => json(200, { items: [user('7')], next_cursor: null }),
      'GET /api/admin/users/7': () => json(200, detail({ can_conversation_times: balance })),
      'POST /api/admin/users/7/chat-times': (req) => {
        balance += (req.body as { delta: number }).delta
        return json(200, { can_conversation_times: balance })
      },
    })
    await usersPage()
    await click('admin-user-open-7')
    const text = byTestId('admin-user-detail').textContent ?? ''
    expect(text).toContain('10.0.0.9')
    expect(text).toContain('501')
    expect(text).toContain('goodwill')
    expect(byTestId('admin-user-bindings').textContent).toContain('u7@example.com')

    await typeInto('admin-adjust-delta', '-2')
    expect((byTestId('admin-adjust-submit') as HTMLButtonElement).disabled).toBe(true)
    await typeInto('admin-adjust-reason', 'double charge')
    expect((byTestId('admin-adjust-submit') as HTMLButtonElement).disabled).toBe(false)
    await click('admin-adjust-submit')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toContain('/api/admin/users/7/chat-times')
    expect(post.body).toEqual({ delta: -2, reason: 'double charge' })
    expect(byTestId('admin-user-balance').textContent).toContain('1')
  })

  it('disables an account only after a confirmation with a reason, and shows an error it answers', async () => {
    let disabled = false
    const { calls } = stubFetch({
      'GET /api/admin/users': () => json(200, { items: [user('7')], next_cursor: null }),
      'GET /api/admin/users/7': () => json(200, detail({ disabled })),
      'POST /api/admin/users/7/disable': () => {
        disabled = true
        return json(200, user('7', { disabled: true }))
      },
      'POST /api/admin/users/7/chat-times': () =>
        json(409, { error: { code: 'insufficient_times', message: 'x' } }),
    })
    await usersPage()
    await click('admin-user-open-7')
    await click('admin-user-status')
    expect(calls.some((c) => c.method === 'POST')).toBe(false)
    expect(byTestId('admin-user-confirm').textContent).toContain('signed out everywhere')
    expect((byTestId('admin-status-confirm') as HTMLButtonElement).disabled).toBe(true)
    await typeInto('admin-status-reason', 'fraud')
    await click('admin-status-confirm')
    const post = calls.find((c) => c.method === 'POST')!
    expect(post.url).toContain('/api/admin/users/7/disable')
    expect(post.body).toEqual({ reason: 'fraud' })
    expect(byTestId('admin-user-state').textContent).toContain('Disabled')
    expect(byTestId('admin-user-status').textContent).toContain('Enable account')

    await typeInto('admin-adjust-delta', '-50')
    await typeInto('admin-adjust-reason', 'too much')
    await click('admin-adjust-submit')
    expect(document.body.textContent).toContain('The user has fewer chat times than that')
  })

  it('checks an adjustment as the server does', () => {
    expect(adjustmentValid(5, 'x')).toBe(true)
    expect(adjustmentValid(0, 'x')).toBe(false)
    expect(adjustmentValid(null, 'x')).toBe(false)
    expect(adjustmentValid(100001, 'x')).toBe(false)
    expect(adjustmentValid(-100000, 'x')).toBe(true)
    expect(adjustmentValid(1.5, 'x')).toBe(false)
    expect(adjustmentValid(5, '   ')).toBe(false)
    expect(adjustmentValid(5, 'y'.repeat(201))).toBe(false)
  })
})
