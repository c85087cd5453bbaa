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

/** The largest avatar file the server takes (2 MiB). */
export const AVATAR_MAX_BYTES = 2 * 1024 * 1024

/** Sets the avatar (PNG, JPEG or WebP, at most 2 MiB; judged by content): answers the user with the new `avatar_url`. 400 `invalid_image`, 413 `payload_too_large`. */
export function uploadAvatar(file: Blob, name = 'avatar'): Promise<User> {
  const form = new FormData()
  form.append('file', file, name)
  return request('/api/users/me/avatar', { method: 'POST', body: form })
}

/** One page of the chat times history, newest first. */
export async function listTimesHistory(cursor: string | null = null): Promise<Page<TimesEntry>> {
  return pageOf(await request<Page<TimesEntry>>('/api/users/me/times-history', { query: { cursor, limit: PAGE_SIZE } }))
}
