/**
 * Conversations and the live answer. The view only renders `messages`; this store sends the
 * prompt, appends each streamed delta to the answer in place, and records how it ended.
 */
import { defineStore } from 'pinia'
import { computed, reactive, ref } from 'vue'
import * as chatApi from '@/api/chat'
import { ApiError } from '@/api/http'
import type { ChatMessage, ChatModel, Room, Usage } from '@/api/types'
import { isAbort } from '@/composables/useErrorText'
import { useAuthStore } from './auth'

export type UiStatus = 'done' | 'streaming' | 'error' | 'interrupted'

export interface UiMessage {
  /** Stable key for rendering; the server id arrives later for live messages. */
  key: string
  id: string | null
  parentId: string | null
  role: 'user' | 'assistant'
  content: string
  status: UiStatus
  model: string | null
  usage: Usage | null
  errorCode?: string
  errorMessage?: string
  /** For an assistant message sent from this page: what to re-send on Retry. */
  prompt?: string
}

const MODEL_KEY = 'paychat.model'
/** After a stopped or failed answer the server may give the chat time back a moment later. */
const TIMES_RECHECK_MS = 2000
let keySeq = 0
const nextKey = () => `m${++keySeq}`

function statusOf(raw: unknown): UiStatus {
  const s = String(raw ?? '').toLowerCase()
  if (s.includes('interrupt') || s.includes('abort') || s.includes('stop')) return 'interrupted'
  if (s.includes('error') || s.includes('fail')) return 'error'
  return 'done'
}

function fromServer(m: ChatMessage): UiMessage {
  return {
    key: `s${m.id}`,
    id: m.id,
    parentId: m.parent_id,
    role: m.role,
    content: m.content ?? '',
    status: statusOf(m.status),
    model: m.model,
    usage: m.usage,
  }
}

export const useChatStore = defineStore('chat', () => {
  const rooms = ref<Room[]>([])
  const roomsLoading = ref(false)
  /** The conversation search: the room list holds only titles containing it (blank: every room). */
  const roomQuery = ref('')
  const currentRoomId = ref<string | null>(null)
  const messages = ref<UiMessage[]>([])
  const messagesLoading = ref(false)
  const models = ref<ChatModel[]>([])
  const selectedModel = ref<string | null>(localStorage.getItem(MODEL_KEY))
  const streaming = ref(false)
  /** Set when the server said 402 no_chat_times: the view shows the recharge prompt. */
  const needRecharge = ref(false)
  let controller: AbortController | null = null

  const currentRoom = computed(() => rooms.value.find((r) => r.id === currentRoomId.value) ?? null)

  async function loadModels(): Promise<void> {
    models.value = await chatApi.listModels()
    const first = models.value[0]
    if (first && !models.value.some((m) => m.id === selectedModel.value)) selectedModel.value = first.id
  }

  function selectModel(id: string): void {
    selectedModel.value = id
    localStorage.setItem(MODEL_KEY, id)
  }

  async function loadRooms(): Promise<void> {
    roomsLoading.value = true
    try {
      const q = roomQuery.value
      const list = await chatApi.listRooms(q)
      // A newer search wins over this one.
      if (q === roomQuery.value) rooms.value = list
    } finally {
      roomsLoading.value = false
    }
  }

  /** Lists the rooms whose title contains `q` (asked of the server, so every room is searched). */
  async function searchRooms(q: string): Promise<void> {
    roomQuery.value = q.trim()
    await loadRooms()
  }

  async function openRoom(id: string): Promise<void> {
    if (id === currentRoomId.value && messages.value.length > 0) return
    stop()
    currentRoomId.value = id
    messages.value = []
    messagesLoading.value = true
    try {
      const list = await chatApi.listMessages(id)
      if (currentRoomId.value === id) messages.value = list.map(fromServer)
    } finally {
      messagesLoading.value = false
    }
  }

  function newChat(): void {
    stop()
    currentRoomId.value = null
    messages.value = []
  }

  async function renameRoom(id: string, title: string): Promise<void> {
    const room = await chatApi.renameRoom(id, title)
    rooms.value = rooms.value.map((r) => (r.id === id ? { ...r, ...room, title: room?.title ?? title } : r))
  }

  async function deleteRoom(id: string): Promise<void> {
    await chatApi.deleteRoom(id)
    rooms.value = rooms.value.filter((r) => r.id !== id)
    if (currentRoomId.value === id) newChat()
  }

  /** The answer the next question follows: the newest assistant message the server knows. */
  function lastAnswerId(): string | null {
    for (let i = messages.value.length - 1; i >= 0; i--) {
      const m = messages.value[i]
      if (m && m.role === 'assistant' && m.id && m.status !== 'error') return m.id
    }
    return null
  }

  /**
   * Sends a prompt and streams the answer into `messages`. Resolves when the stream ends;
   * returns 'recharge' when the user has no chat times left (nothing is added then).
   */
  async function send(
    prompt: string,
    parentOverride?: string | null,
    opts: { fromRoot?: boolean } = {},
  ): Promise<'ok' | 'recharge' | 'busy'> {
    const text = prompt.trim()
    if (!text || streaming.value) return 'busy'
    const auth = useAuthStore()
    needRecharge.value = false
    const parentId = parentOverride !== undefined ? parentOverride : lastAnswerId()
    const question = reactive<UiMessage>({
      key: nextKey(), id: null, parentId, role: 'user', content: text, status: 'done', model: null, usage: null,
    })
    const answer = reactive<UiMessage>({
      key: nextKey(), id: null, parentId: null, role: 'assistant', content: '', status: 'streaming',
      model: selectedModel.value, usage: null, prompt: text,
    })
    messages.value.push(question, answer)
    const startedInRoom = currentRoomId.value
    const ctrl = new AbortController()
    controller = ctrl
    streaming.value = true
    let timesKnown = false
    try {
      const outcome = await chatApi.streamCompletion(
        {
          prompt: text,
          room_id: startedInRoom ?? undefined,
          parent_message_id: parentId ?? undefined,
          model: selectedModel.value ?? undefined,
          ...(opts.fromRoot && startedInRoom !== null && parentId === null ? { from_root: true } : {}),
        },
        {
          onMeta(m) {
            question.id = m.question_id
            answer.id = m.answer_id
            answer.parentId = m.question_id
            answer.model = m.model
            if (startedInRoom === null && currentRoomId.value === null && messages.value.includes(answer)) {
              currentRoomId.value = m.room_id
              const now = new Date().toISOString()
              if (!rooms.value.some((r) => r.id === m.room_id)) {
                rooms.value = [{ id: m.room_id, title: text.slice(0, 40), created_at: now, updated_at: now }, ...rooms.value]
              }
            }
          },
          onDelta(d) {
            answer.content += d.content
          },
        },
        ctrl.signal,
      )
      if (outcome.kind === 'done') {
        answer.status = 'done'
        answer.usage = outcome.done.usage
        if (typeof outcome.done.remaining_times === 'number') {
          auth.setChatTimes(outcome.done.remaining_times)
          timesKnown = true
        }
      } else {
        answer.status = 'error'
        answer.errorCode = outcome.error.code
        answer.errorMessage = outcome.error.message
      }
      return 'ok'
    } catch (e) {
      if (isAbort(e)) {
        answer.status = 'interrupted'
        return 'ok'
      }
      if (e instanceof ApiError && e.status === 402) {
        messages.value = messages.value.filter((m) => m !== question && m !== answer)
        needRecharge.value = true
        auth.setChatTimes(0)
        timesKnown = true
        return 'recharge'
      }
      answer.status = 'error'
      answer.errorCode = e instanceof ApiError ? e.code : 'network_error'
      answer.errorMessage = e instanceof Error ? e.message : String(e)
      return 'ok'
    } finally {
      if (controller === ctrl) controller = null
      streaming.value = false
      // The room's title and order may have changed; refresh quietly.
      loadRooms().catch(() => {})
      // Stopped or failed: the stream did not say how many chat times are left, so ask.
      if (!timesKnown) refreshChatTimes()
    }
  }

  /** Re-sends the prompt of a failed answer, in place of it. */
  async function retry(answer: UiMessage): Promise<'ok' | 'recharge' | 'busy'> {
    if (streaming.value || !answer.prompt) return 'busy'
    const idx = messages.value.indexOf(answer)
    if (idx < 0) return 'busy'
    const question = messages.value[idx - 1]
    const parentId = question?.role === 'user' ? question.parentId : null
    messages.value = messages.value.filter((m, i) => i !== idx && !(i === idx - 1 && m.role === 'user'))
    return send(answer.prompt, parentId)
  }

  /** The question an answer replies to, if it is on the page. */
  function questionOf(answer: UiMessage): UiMessage | undefined {
    if (answer.parentId) {
      const byId = messages.value.find((m) => m.role === 'user' && m.id === answer.parentId)
      if (byId) return byId
    }
    const before = messages.value[messages.value.indexOf(answer) - 1]
    return before?.role === 'user' ? before : undefined
  }

  /**
   * Asks the question of `answer` again as a new exchange (one chat time), from the same parent
   * as the original question; a room's first question starts over at the room's root.
   */
  async function regenerate(answer: UiMessage): Promise<'ok' | 'recharge' | 'busy'> {
    const question = questionOf(answer)
    if (streaming.value || !question || answer.role !== 'assistant') return 'busy'
    return send(question.content, question.parentId, { fromRoot: true })
  }

  /** Sends an edited copy of `question` as a new exchange from the same parent as the original. */
  async function editAndResend(question: UiMessage, text: string): Promise<'ok' | 'recharge' | 'busy'> {
    if (streaming.value || question.role !== 'user' || !question.id) return 'busy'
    return send(text, question.parentId, { fromRoot: true })
  }

  function refreshChatTimes(): void {
    const auth = useAuthStore()
    auth.refreshChatTimes()
    setTimeout(() => auth.refreshChatTimes(), TIMES_RECHECK_MS)
  }

  function stop(): void {
    controller?.abort()
    controller = null
  }

  function reset(): void {
    stop()
    rooms.value = []
    roomQuery.value = ''
    messages.value = []
    currentRoomId.value = null
    needRecharge.value = false
  }

  return {
    rooms, roomsLoading, roomQuery, currentRoomId, currentRoom, messages, messagesLoading, models, selectedModel,
    streaming, needRecharge,
    loadModels, selectModel, loadRooms, searchRooms, regenerate, editAndResend, openRoom, newChat, renameRoom, deleteRoom, send, retry, stop, reset,
  }
})
