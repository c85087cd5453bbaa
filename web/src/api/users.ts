/** The signed-in user's profile (chat-api). */
import { request } from './http'
import type { User } from './types'

export function getMe(): Promise<User> {
  return request('/api/users/me')
}

export function updateMe(body: { nickname?: string; description?: string }): Promise<User> {
  return request('/api/users/me', { method: 'PATCH', body })
}
