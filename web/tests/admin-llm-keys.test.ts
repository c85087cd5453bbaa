import { describe, expect, it } from 'vitest'
import { defineComponent, h } from 'vue'
import { flushPromises, mount } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { keyProblem, type LlmKey, type LlmModel } from '@/api/adminLlmKeys'
import { json, stubFetch } from './helpers'
import { adminPageHooks, mounted, byTestId, typeInto } from './admin-page'

const { default: AdminLlmKeysView } = await import('@/views/admin/AdminLlmKeysView.vue')

function key(id: string, over: Partial<LlmKey> = {}): LlmKey {
  return {
    id, label: `key ${id}`, key: 'sk-…wxyz', fingerprint: 'sha256:abcdefabcdef', enabled: true,
    resting_until: null, resting_reason: null, last_error: null, last_error_at: null,
    created_at: '2026-11-20T08:00:00.000Z', updated_at: '2026-11-20T08:00:00.000Z', ...over,
  }
}

const models: LlmModel[] = [
  { name: 'sandbox-chat', enabled: true, default: true, updated_at: '2026-11-20T08:00:00.000Z' },
  { name: 'sandbox-chat-mini', enabled: true, default: false, updated_at: '2026-11-20T08:00:00.000Z' },
]

adminPageHooks()

function all(id: string): HTMLElement[] {
  return [...document.querySelectorAll<HTMLElement>(`[data-testid="${id}"]`)]
}
async function page() {
  const Host = defineComponent({ setup: () => () => h(NMessageProvider, null, () => h(AdminLlmKeysView)) })
  mounted.wrapper = mount(Host, { attachTo: document.body })
  await flushPromises()
}

describe('upstream keys page', () => {
  it('lists keys masked, with a resting key and why', async () => {
    stubFetch({
      'GET /api/admin/llm-keys': () =>
        json(200, { items: [key('1'), key('2', { resting_until: '2026-11-26T18:00:00.000Z', resting_reason: '401 Incorrect API key', last_error: '401 Incorrect API key', last_error_at: '2026-11-26T17:59:00.000Z' })] }),
      'GET /api/admin/llm-models': () => json(200, { items: models }),
    })
    await page()
    expect(all('llm-key-row')).toHaveLength(2)
    expect(all('llm-key-mask').map((e) => e.textContent)).toEqual(['sk-…wxyz', 'sk-…wxyz'])
    expect(byTestId('llm-key-resting').textContent).toContain('401 Incorrect API key')
    expect(byTestId('llm-key-error').textContent).toContain('401')
    // The default model cannot be switched off.
    const switches = all('llm-model-enabled')
    expect(switches).toHaveLength(2)
    expect(switches[0]?.className).toContain('disabled')
    expect(switches[1]?.className).not.toContain('disabled')
  })

  it('adds a key, sends the secret once, and checks it first', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/llm-keys': () => json(200, { items: [] }),
      'GET /api/admin/llm-models': () => json(200, { items: models }),
      'POST /api/admin/llm-keys': () => json(201, key('9', { label: 'main' })),
    })
    await page()
    await typeInto('llm-key-new', 'sk short')
    byTestId('llm-key-add').click()
    await flushPromises()
    expect(byTestId('llm-key-problem').textContent).toBe('A key has no spaces')
    expect(calls.filter((c) => c.method === 'POST')).toHaveLength(0)

    await typeInto('llm-key-new', 'sk-live-0123456789wxyz')
    await typeInto('llm-key-label', 'main')
    byTestId('llm-key-add').click()
    await flushPromises()
    const posts = calls.filter((c) => c.method === 'POST')
    expect(posts).toHaveLength(1)
    expect(posts[0]?.body).toEqual({ key: 'sk-live-0123456789wxyz', label: 'main' })
    expect(all('llm-key-row')).toHaveLength(1)
    expect(document.body.textContent).not.toContain('0123456789')
    // The form forgets the secret once it is stored.
    expect(byTestId('llm-key-new').querySelector('input')?.value).toBe('')
  })

  it('tests a key and shows the upstream verdict on its row', async () => {
    stubFetch({
      'GET /api/admin/llm-keys': () => json(200, { items: [key('1')] }),
      'GET /api/admin/llm-models': () => json(200, { items: models }),
      'POST /api/admin/llm-keys/1/test': () =>
        json(200, { ok: false, status: 401, latency_ms: 12, model: 'sandbox-chat', error: '401 Incorrect API key', llm_key: key('1', { resting_until: '2026-11-26T18:00:00.000Z', resting_reason: '401 Incorrect API key' }) }),
    })
    await page()
    byTestId('llm-key-test').click()
    await flushPromises()
    expect(document.body.textContent).toContain('The upstream refused the key: 401 Incorrect API key')
    expect(byTestId('llm-key-resting').textContent).toContain('Resting until')
  })

  it('switches a model off', async () => {
    const { calls } = stubFetch({
      'GET /api/admin/llm-keys': () => json(200, { items: [] }),
      'GET /api/admin/llm-models': () => json(200, { items: models }),
      'PATCH /api/admin/llm-models/sandbox-chat-mini': () => json(200, { ...models[1], enabled: false }),
    })
    await page()
    all('llm-model-enabled')[1]?.click()
    await flushPromises()
    const patch = calls.find((c) => c.method === 'PATCH')
    expect(patch?.body).toEqual({ enabled: false })
  })

  it('knows the server bounds of a key', () => {
    expect(keyProblem('sk-1234')).toBe('length')
    expect(keyProblem(' sk-12345678 ')).toBeNull()
    expect(keyProblem('sk-1234 5678')).toBe('spaces')
  })
})
