/** Sign-in providers (chat-api): the configured providers, the ticket exchange, and the user's linked providers. */
import { request } from './http'
import type { User } from './types'

export interface Provider {
  id: string
  name: string
  kind: 'oidc' | 'github'
}

export interface ExchangeResponse {
  token: string
  expires_at: string
  user: User
  /** The app path the sign-in was started for. */
  return_to: string
}

export interface Binding {
  provider: string
  name: string
  kind: Provider['kind'] | null
  email: string | null
  linked_at: string
}

export async function listProviders(): Promise<Provider[]> {
  return (await request<{ items: Provider[] }>('/api/auth/providers')).items
}

/** Where the browser goes to sign in with `provider`; it comes back to /oauth/done. */
export function startUrl(provider: string, returnTo: string): string {
  return `/api/auth/oauth/${encodeURIComponent(provider)}/start?return_to=${encodeURIComponent(returnTo)}`
}

/** Trades the one-time ticket for a session; 409 `link_required` (with `email`) asks for the existing account's password. */
export function exchangeTicket(ticket: string, password?: string): Promise<ExchangeResponse> {
  return request('/api/auth/oauth/exchange', { method: 'POST', body: password === undefined ? { ticket } : { ticket, password } })
}

/** Mails a one-time link to the existing account's address instead of asking its password: answers where it went. */
export function mailLinkProof(ticket: string): Promise<{ email: string }> {
  return request('/api/auth/oauth/link-mail', { method: 'POST', body: { ticket } })
}

/** The mailed link's code: links the provider to that account and signs in (like exchange). 400 `invalid_code`/`expired_code`. */
export function confirmLinkProof(code: string): Promise<ExchangeResponse> {
  return request('/api/auth/oauth/link-confirm', { method: 'POST', body: { code } })
}

export function listBindings(): Promise<{ items: Binding[]; password: boolean }> {
  return request('/api/users/me/bindings')
}

/** Starts linking `provider` to the signed-in user: answers the URL to send the browser to. */
export async function startLink(provider: string): Promise<string> {
  return (await request<{ url: string }>(`/api/users/me/bindings/${encodeURIComponent(provider)}`, { method: 'POST', query: { return_to: '/account' } })).url
}

/** 409 `last_sign_in_method` when it is the only way in left. */
export function unlinkProvider(provider: string): Promise<void> {
  return request(`/api/users/me/bindings/${encodeURIComponent(provider)}`, { method: 'DELETE' })
}
