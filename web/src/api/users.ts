/** The signed-in user's profile (chat-api). */
import { PAGE_SIZE, pageOf, request } from './http'
import type { Page, TimesEntry, User } from './types'
import type { Locale } from '@/locales'

export function getMe(): Promise<User> {
  return request('/api/users/me')
}

export function updateMe(body: { nickname?: string; description?: string; locale?: Locale }): Promise<User> {
  return request('/api/users/me', { method: 'PATCH', body })
}

/** Sets a new password; the server ends every other session. A wrong current password is 403 `invalid_credentials`. */
export function changePassword(currentPassword: string, newPassword: string): Promise<void> {
  return request('/api/users/me/password', {
    method: 'POST',
    body: { current_password: currentPassword, new_password: newPassword },
  })
}

/** One page of the chat times history, newest first. */
export async function listTimesHistory(cursor: string | null = null): Promise<Page<TimesEntry>> {
  return pageOf(await request<Page<TimesEntry>>('/api/users/me/times-history', { query: { cursor, limit: PAGE_SIZE } }))
}
