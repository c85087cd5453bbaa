/** Shared set-up of the admin pages' component tests: fresh stores with an admin's token, one locale, the mounted page unmounted after each test, and DOM helpers by data-testid. */
import { afterEach, beforeEach, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { flushPromises, type VueWrapper } from '@vue/test-utils'
import { configureHttp } from '@/api/http'
import { setLocale, type Locale } from '@/locales'

/** The page a test mounted; unmounted after it. */
export const mounted: { wrapper: VueWrapper | null } = { wrapper: null }

/** Registers the before/after hooks of an admin page's test file. */
export function adminPageHooks(locale: Locale = 'en') {
  beforeEach(() => {
    setActivePinia(createPinia())
    configureHttp({ token: () => 'admin-token', unauthorized: () => {} })
    setLocale(locale)
  })
  afterEach(() => {
    mounted.wrapper?.unmount()
    mounted.wrapper = null
    vi.unstubAllGlobals()
    localStorage.clear()
    document.body.innerHTML = ''
  })
}

export function byTestId(id: string): HTMLElement {
  const el = document.querySelector<HTMLElement>(`[data-testid="${id}"]`)
  if (!el) throw new Error(`no ${id}`)
  return el
}

/** Types into the input inside a NaiveUI field, as a user would, leaving it after. */
export async function typeInto(testid: string, value: string) {
  const el = byTestId(testid)
  const input = el instanceof HTMLInputElement ? el : el.querySelector('input')
  if (!input) throw new Error(`no input in ${testid}`)
  input.value = value
  input.dispatchEvent(new Event('input'))
  input.dispatchEvent(new Event('change'))
  input.dispatchEvent(new Event('blur'))
  await flushPromises()
}

export async function click(testid: string) {
  byTestId(testid).click()
  await flushPromises()
}
