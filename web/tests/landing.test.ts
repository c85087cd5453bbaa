import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { flushPromises, mount, type VueWrapper } from '@vue/test-utils'
import LandingView from '@/views/LandingView.vue'
import { router } from '@/router'
import { useAuthStore } from '@/stores/auth'
import type { Product, User } from '@/api/types'
import { json, stubFetch } from './helpers'

const user: User = {
  id: '7',
  email: 'a@example.com',
  nickname: 'Ann',
  description: null,
  role: 'user',
  can_conversation_times: 4,
  last_login_ip: null,
  created_at: '2026-01-01T00:00:00Z',
}

function product(id: string, name: string, price: string, times: number, stock = 10): Product {
  return { id, name, description: `${name} pack`, price, reward_use_times: times, stock, sale: 3 }
}

let wrapper: VueWrapper | null = null

beforeEach(() => {
  setActivePinia(createPinia())
})

afterEach(async () => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
})

describe('the landing page route', () => {
  it('is what a visitor sees at /', async () => {
    stubFetch({ 'GET /api/products': () => json(200, { items: [], next_cursor: null }) })
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('landing')
  })

  it('sends a signed-in user straight to the chat', async () => {
    stubFetch({ 'GET /api/users/me': () => json(200, user) })
    const auth = useAuthStore()
    auth.token = 'tok'
    auth.user = { ...user }
    // Links that existed before keep working.
    await router.push('/codes')
    expect(router.currentRoute.value.name).toBe('codes')
    await router.push('/')
    expect(router.currentRoute.value.name).toBe('chat')
    await router.push('/nowhere')
    expect(router.currentRoute.value.name).toBe('chat')
    auth.clear()
    await router.push('/reset-password?code=abc')
    expect(router.currentRoute.value.name).toBe('reset')
    await router.push('/chat')
    expect(router.currentRoute.value.name).toBe('login')
  })
})

describe('the landing page', () => {
  it('says what the site is, lists the products and prices, and offers sign-up and sign-in', async () => {
    const { calls } = stubFetch({
      'GET /api/products': () =>
        json(200, { items: [product('1', 'Starter', '9.90', 10), product('2', 'Gone', '1.00', 1, 0)], next_cursor: null }),
    })
    wrapper = mount(LandingView, { global: { plugins: [router] } })
    await flushPromises()
    expect(calls[0]!.headers.authorization).toBeUndefined()
    expect(wrapper.find('[data-testid="landing-hero"]').text().length).toBeGreaterThan(10)
    const cards = wrapper.findAll('[data-testid="landing-product"]')
    expect(cards).toHaveLength(2)
    expect(cards[0]!.text()).toContain('Starter')
    expect(cards[0]!.text()).toContain('9.90')
    expect(cards[0]!.text()).toContain('10')
    expect(cards[1]!.attributes('data-sold-out')).toBe('1')
    expect(wrapper.find('[data-testid="landing-register"]').attributes('href')).toBe('/register')
    expect(wrapper.find('[data-testid="landing-login"]').attributes('href')).toBe('/login')
  })

  it('still offers sign-up when the products cannot be read', async () => {
    stubFetch({ 'GET /api/products': () => json(503, { error: { code: 'service_unavailable', message: 'down' } }) })
    wrapper = mount(LandingView, { global: { plugins: [router] } })
    await flushPromises()
    expect(wrapper.findAll('[data-testid="landing-product"]')).toHaveLength(0)
    expect(wrapper.find('[data-testid="landing-products-error"]').exists()).toBe(true)
    expect(wrapper.find('[data-testid="landing-register"]').exists()).toBe(true)
  })
})
