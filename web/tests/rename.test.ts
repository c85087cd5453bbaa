import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { defineComponent, h, nextTick } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { NDialogProvider, NMessageProvider } from 'naive-ui'
import ConversationList from '@/components/ConversationList.vue'
import { useChatStore } from '@/stores/chat'
import { json, stubFetch } from './helpers'

const rooms = [
  { id: 'r1', title: 'First', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' },
  { id: 'r2', title: 'Second', created_at: '2026-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z' },
]

const Host = defineComponent({
  setup: () => () => h(NMessageProvider, null, () => h(NDialogProvider, null, () => h(ConversationList))),
})

let wrapper: VueWrapper | null = null
const errors: unknown[] = []
const onError = (e: unknown) => errors.push(e)

beforeEach(() => {
  setActivePinia(createPinia())
  errors.length = 0
  process.on('unhandledRejection', onError)
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  process.off('unhandledRejection', onError)
  vi.unstubAllGlobals()
})

async function mounted() {
  const chat = useChatStore()
  chat.rooms = rooms.map((r) => ({ ...r }))
  wrapper = mount(Host, { attachTo: document.body })
  await nextTick()
  return chat
}

async function startRename(index: number): Promise<HTMLInputElement> {
  const buttons = wrapper!.findAll('[data-testid="room-rename"]')
  await buttons[index]!.trigger('click')
  await vi.waitFor(() => expect(wrapper!.find('[data-testid="room-rename-input"] input').exists()).toBe(true))
  await nextTick()
  return wrapper!.find('[data-testid="room-rename-input"] input').element as HTMLInputElement
}

const key = (el: HTMLElement, k: string) => {
  el.dispatchEvent(new KeyboardEvent('keydown', { key: k, bubbles: true }))
  el.dispatchEvent(new KeyboardEvent('keyup', { key: k, bubbles: true }))
}

describe('renaming a conversation', () => {
  it('focuses the input without throwing', async () => {
    await mounted()
    const input = await startRename(1)
    await vi.waitFor(() => expect(document.activeElement).toBe(input))
    expect(errors).toEqual([])
  })

  it('Enter saves the new title', async () => {
    const { calls } = stubFetch({
      'PATCH /api/chat/rooms/r2': (req) => json(200, { ...rooms[1], title: (req.body as { title: string }).title }),
    })
    const chat = await mounted()
    const input = await startRename(1)
    input.value = 'Renamed'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    await nextTick()
    key(input, 'Enter')
    await vi.waitFor(() => expect(chat.rooms[1]!.title).toBe('Renamed'))
    expect(calls).toHaveLength(1)
    expect(calls[0]!.body).toEqual({ title: 'Renamed' })
    await nextTick()
    expect(wrapper!.find('[data-testid="room-rename-input"]').exists()).toBe(false)
    expect(errors).toEqual([])
  })

  it('Esc cancels, and so does clicking away', async () => {
    const { calls } = stubFetch({})
    const chat = await mounted()
    let input = await startRename(0)
    input.value = 'Not this'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    key(input, 'Escape')
    await vi.waitFor(() => expect(wrapper!.find('[data-testid="room-rename-input"]').exists()).toBe(false))

    input = await startRename(0)
    input.value = 'Nor this'
    input.dispatchEvent(new Event('input', { bubbles: true }))
    input.blur()
    input.dispatchEvent(new FocusEvent('blur'))
    input.dispatchEvent(new FocusEvent('focusout', { bubbles: true }))
    await vi.waitFor(() => expect(wrapper!.find('[data-testid="room-rename-input"]').exists()).toBe(false))
    await new Promise((r) => setTimeout(r, 20))
    expect(calls).toHaveLength(0)
    expect(chat.rooms[0]!.title).toBe('First')
    expect(errors).toEqual([])
  })
})
