/** Chat: models, rooms, messages and the streamed completion (chat-api). */
import { ApiError, itemsOf, pageOf, request, send } from './http'
import { readEventStream } from './sse'
import type {
  ChatMessage,
  ChatModel,
  CompletionRequest,
  DeltaEvent,
  DoneEvent,
  ErrorEvent,
  MetaEvent,
  Page,
  Room,
} from './types'

export async function listModels(): Promise<ChatModel[]> {
  return itemsOf(await request<Page<ChatModel> | ChatModel[]>('/api/chat/models'))
}

/** The newest rooms; with `q`, only those whose title contains it (the server searches every room). */
export async function listRooms(q?: string): Promise<Room[]> {
  return itemsOf(await request<Page<Room> | Room[]>('/api/chat/rooms', { query: { limit: 100, q: q?.trim() || undefined } }))
}

export async function listMessages(roomId: string): Promise<ChatMessage[]> {
  return itemsOf(
    await request<Page<ChatMessage> | ChatMessage[]>(`/api/chat/rooms/${encodeURIComponent(roomId)}/messages`, {
      query: { limit: 100 },
    }),
  )
}

/** Pages asked for at most while reading a whole conversation; a loop guard. */
const MAX_MESSAGE_PAGES = 200

/** Every message of a room, oldest first, following `next_cursor` (for an export). */
export async function listAllMessages(roomId: string): Promise<ChatMessage[]> {
  const all: ChatMessage[] = []
  let cursor: string | null = null
  for (let n = 0; n < MAX_MESSAGE_PAGES; n++) {
    const page: { items: ChatMessage[]; next_cursor: string | null } = pageOf(
      await request<Page<ChatMessage> | ChatMessage[]>(`/api/chat/rooms/${encodeURIComponent(roomId)}/messages`, {
        query: { limit: 100, cursor },
      }),
    )
    all.push(...page.items)
    if (!page.next_cursor || page.next_cursor === cursor) break
    cursor = page.next_cursor
  }
  return all
}

export function renameRoom(roomId: string, title: string): Promise<Room> {
  return request(`/api/chat/rooms/${encodeURIComponent(roomId)}`, { method: 'PATCH', body: { title } })
}

export function deleteRoom(roomId: string): Promise<void> {
  return request(`/api/chat/rooms/${encodeURIComponent(roomId)}`, { method: 'DELETE' })
}

export interface CompletionHandlers {
  onMeta?: (e: MetaEvent) => void
  onDelta?: (e: DeltaEvent) => void
  onDone?: (e: DoneEvent) => void
}

/** How a completion stream ended. */
export type CompletionOutcome = { kind: 'done'; done: DoneEvent } | { kind: 'error'; error: ErrorEvent }

/**
 * POST /api/chat/completions and read its event stream until `done` or `error`.
 * HTTP errors before the stream (402 no_chat_times, 400 sensitive_content, ...) throw ApiError;
 * an aborted signal rejects with an AbortError. A body that ends without `done` or `error`
 * (a dropped connection) resolves as an error outcome, so the caller can offer a retry.
 */
export async function streamCompletion(
  body: CompletionRequest,
  handlers: CompletionHandlers,
  signal?: AbortSignal,
): Promise<CompletionOutcome> {
  const res = await send('/api/chat/completions', {
    method: 'POST',
    body,
    signal,
    headers: { Accept: 'text/event-stream' },
  })
  if (!res.body) throw new ApiError(0, { code: 'stream_unsupported', message: 'empty response body' })
  let outcome: CompletionOutcome | null = null
  await readEventStream(res.body, (ev) => {
    if (outcome) return
    let data: unknown
    try {
      data = JSON.parse(ev.data)
    } catch {
      return
    }
    switch (ev.event) {
      case 'meta':
        handlers.onMeta?.(data as MetaEvent)
        break
      case 'delta':
        handlers.onDelta?.(data as DeltaEvent)
        break
      case 'done':
        outcome = { kind: 'done', done: data as DoneEvent }
        handlers.onDone?.(data as DoneEvent)
        break
      case 'error':
        outcome = { kind: 'error', error: data as ErrorEvent }
        break
      default:
        break
    }
  })
  return outcome ?? { kind: 'error', error: { code: 'stream_interrupted', message: 'the connection ended early' } }
}
