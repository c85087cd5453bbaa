/** The signed-in user's sessions (chat-api): list them, end one, end all the others. */
import { request } from './http'

export interface Session {
  id: string
  created_at: string | null
  last_seen_at: string | null
  ip: string | null
  user_agent: string | null
  current: boolean
}

export async function listSessions(): Promise<Session[]> {
  return (await request<{ items: Session[] }>('/api/users/me/sessions')).items
}

export function endSession(id: string): Promise<void> {
  return request(`/api/users/me/sessions/${encodeURIComponent(id)}`, { method: 'DELETE' })
}

export function endOtherSessions(): Promise<void> {
  return request('/api/users/me/sessions', { method: 'DELETE', query: { others: 'true' } })
}
