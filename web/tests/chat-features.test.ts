import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createPinia, setActivePinia } from 'pinia'
import { nextTick } from 'vue'
import { mount, type VueWrapper } from '@vue/test-utils'
import { NMessageProvider } from 'naive-ui'
import { defineComponent, h } from 'vue'
import MessageItem from '@/components/MessageItem.vue'
import { useChatStore, type UiMessage } from '@/stores/chat'
import { useAuthStore } from '@/stores/auth'
import { renderMarkdown } from '@/utils/markdown'
import { exportFileName, roomToMarkdown } from '@/utils/exportRoom'
import { listAllMessages } from '@/api/chat'
import type { ChatMessage } from '@/api/types'
import { json, sse, stubFetch, type Recorded } from './helpers'

const copied: string[] = []
vi.mock('@/utils/clipboard', () => ({
  copyText: async (text: string) => {
    copied.push(text)
    return true
  },
}))

function server(id: string, role: 'user' | 'assistant', content: string, parent: string | null): ChatMessage {
  return { id, parent_id: parent, role, content, status: 'done', model: role === 'assistant' ? 'm-1' : null, created_at: '2026-01-01T00:00:00Z', usage: null }
}

function streamOk(n: number) {
  return () =>
    sse([
      `event: meta\ndata: {"room_id":"r1","question_id":"q${n}","answer_id":"a${n}","model":"m-1"}\n\n`,
      'event: delta\ndata: {"content":"again"}\n\n',
      'event: done\ndata: {"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2},"remaining_times":2,"finish_reason":"stop"}\n\n',
    ])
}

let wrapper: VueWrapper | null = null

beforeEach(() => {
  setActivePinia(createPinia())
  copied.length = 0
  const auth = useAuthStore()
  auth.token = 'tok'
})

afterEach(() => {
  wrapper?.unmount()
  wrapper = null
  vi.unstubAllGlobals()
})

describe('copying', () => {
  it('puts a copy button on every code block', () => {
    const html = renderMarkdown('text\n\n```js\nconst a = 1 < 2\n```\n\n```\nplain\n```')
    expect(html.match(/data-testid="code-copy"/g)).toHaveLength(2)
    // Labelled for screen readers, and outside the <code> so it is not part of the copied text.
    expect(html).toMatch(/<button[^>]*aria-label="[^"]+"/)
  })

  function mountMessage(message: UiMessage) {
    const Host = defineComponent({ setup: () => () => h(NMessageProvider, null, () => h(MessageItem, { message, canRetry: false })) })
    wrapper = mount(Host, { attachTo: document.body })
  }

  it('copies a code block, or the whole answer', async () => {
    const content = 'Here:\n\n```js\nconst a = 1 < 2\n```\n\nDone.'
    mountMessage({ key: 'k', id: 'a1', parentId: 'q1', role: 'assistant', content, status: 'done', model: 'm', usage: null })
    await nextTick()
    await wrapper!.find('[data-testid="code-copy"]').trigger('click')
    await vi.waitFor(() => expect(copied).toEqual(['const a = 1 < 2\n']))
    await wrapper!.find('[data-testid="answer-copy"]').trigger('click')
    await vi.waitFor(() => expect(copied).toEqual(['const a = 1 < 2\n', content]))
  })
})

describe('regenerating and editing', () => {
  async function roomWithTwoExchanges(routes: Record<string, (r: Recorded) => Response>) {
    const stub = stubFetch({
      'GET /api/chat/rooms/r1/messages': () =>
        json(200, {
          items: [server('q1', 'user', 'first', null), server('a1', 'assistant', 'one', 'q1'), server('q2', 'user', 'second', 'a1'), server('a2', 'assistant', 'two', 'q2')],
          next_cursor: null,
        }),
      'GET /api/chat/rooms': () => json(200, { items: [], next_cursor: null }),
      'GET /api/users/me': () => json(401, { error: { code: 'unauthorized', message: '' } }),
      ...routes,
    })
    const chat = useChatStore()
    await chat.openRoom('r1')
    return { chat, stub }
  }

  it('regenerates an answer from the same parent as its question, as a new exchange', async () => {
    const { chat, stub } = await roomWithTwoExchanges({ 'POST /api/chat/completions': streamOk(3) })
    const a2 = chat.messages.find((m) => m.id === 'a2')!
    expect(await chat.regenerate(a2)).toBe('ok')
    const post = stub.calls.find((c) => c.method === 'POST')!
    expect(post.body).toMatchObject({ prompt: 'second', room_id: 'r1', parent_message_id: 'a1' })
    expect(post.body).not.toHaveProperty('from_root')
    // The old exchange stays; the new one follows it.
    expect(chat.messages.map((m) => m.id)).toEqual(['q1', 'a1', 'q2', 'a2', 'q3', 'a3'])
    expect(chat.messages[5]!.content).toBe('again')
  })

  it('regenerates the first answer from the room root', async () => {
    const { chat, stub } = await roomWithTwoExchanges({ 'POST /api/chat/completions': streamOk(3) })
    await chat.regenerate(chat.messages.find((m) => m.id === 'a1')!)
    const post = stub.calls.find((c) => c.method === 'POST')!
    expect(post.body).toMatchObject({ prompt: 'first', room_id: 'r1', from_root: true })
    expect(post.body).not.toHaveProperty('parent_message_id')
  })

  it('sends an edited question from the same parent as the original', async () => {
    const { chat, stub } = await roomWithTwoExchanges({ 'POST /api/chat/completions': streamOk(3) })
    const q2 = chat.messages.find((m) => m.id === 'q2')!
    expect(await chat.editAndResend(q2, '  second, better  ')).toBe('ok')
    const post = stub.calls.find((c) => c.method === 'POST')!
    expect(post.body).toMatchObject({ prompt: 'second, better', room_id: 'r1', parent_message_id: 'a1' })
    expect(chat.messages.map((m) => m.content).slice(-2)).toEqual(['second, better', 'again'])
  })
})

describe('searching conversations', () => {
  it('asks the server for rooms whose title matches, and clears back to all', async () => {
    const { calls } = stubFetch({
      'GET /api/chat/rooms': (req) =>
        json(200, {
          items: req.url.includes('q=cat') ? [{ id: 'r2', title: 'Cats', created_at: '', updated_at: '' }] : [{ id: 'r1', title: 'All', created_at: '', updated_at: '' }],
          next_cursor: null,
        }),
    })
    const chat = useChatStore()
    await chat.searchRooms('cat')
    expect(chat.rooms.map((r) => r.title)).toEqual(['Cats'])
    expect(calls[0]!.url).toContain('q=cat')
    // A refresh (after a send, say) keeps the search.
    await chat.loadRooms()
    expect(chat.rooms.map((r) => r.title)).toEqual(['Cats'])
    await chat.searchRooms('  ')
    expect(chat.rooms.map((r) => r.title)).toEqual(['All'])
    expect(calls[2]!.url).not.toContain('q=')
  })
})

describe('exporting a conversation', () => {
  it('reads every page of messages', async () => {
    stubFetch({
      'GET /api/chat/rooms/r1/messages': (req) =>
        req.url.includes('cursor=c1')
          ? json(200, { items: [server('a1', 'assistant', 'one', 'q1')], next_cursor: null })
          : json(200, { items: [server('q1', 'user', 'first', null)], next_cursor: 'c1' }),
    })
    const all = await listAllMessages('r1')
    expect(all.map((m) => m.id)).toEqual(['q1', 'a1'])
  })

  it('writes the messages as Markdown', () => {
    const md = roomToMarkdown('Cats & dogs', [server('q1', 'user', 'Why?', null), server('a1', 'assistant', 'Because.\n\n```js\nx\n```', 'q1')], {
      you: 'You',
      assistant: 'Assistant',
      exportedAt: 'Exported 2026-01-02',
    })
    expect(md).toBe('# Cats & dogs\n\n_Exported 2026-01-02_\n\n## You\n\nWhy?\n\n## Assistant (m-1)\n\nBecause.\n\n```js\nx\n```\n')
    expect(exportFileName('Cats / dogs: a "chat"?', new Date('2026-01-02T03:04:05Z'))).toBe('Cats-dogs-a-chat-20260102.md')
    expect(exportFileName('', new Date('2026-01-02T03:04:05Z'))).toBe('paychat-20260102.md')
  })
})
