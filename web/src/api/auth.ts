/** Accounts: register, verify, login, logout, password reset (chat-api). */
import { request } from './http'
import type { LoginResponse, RegisterResponse } from './types'
import { useI18n, type Locale } from '@/locales'

/** Registers in the UI's current language unless told otherwise: the account's email is written in it. */
export function register(body: { email: string; password: string; nickname?: string; locale?: Locale }): Promise<RegisterResponse> {
  return request('/api/auth/register', { method: 'POST', body: { ...body, locale: body.locale ?? useI18n().locale.value } })
}

export function resendVerification(email: string): Promise<void> {
  return request('/api/auth/resend-verification', { method: 'POST', body: { email } })
}

export function login(body: { email: string; password: string }): Promise<LoginResponse> {
  return request('/api/auth/login', { method: 'POST', body })
}

export function logout(): Promise<void> {
  return request('/api/auth/logout', { method: 'POST' })
}

export function requestPasswordReset(email: string): Promise<void> {
  return request('/api/auth/password-reset', { method: 'POST', body: { email } })
}

export function confirmPasswordReset(body: { code: string; new_password: string }): Promise<void> {
  return request('/api/auth/password-reset/confirm', { method: 'POST', body })
}
