/** The operator console's Users panel and audit log (role admin only). Money is a string with two decimals. */
import { pageOf, request } from './http'
import type { Page, User } from './types'

/** `user` with the console's figures: orders placed, money of completed orders. */
export interface AdminUser extends User {
  disabled: boolean
  orders: number
  paid_total: string
}

export interface UserBinding {
  kind: 'email' | 'oauth'
  provider: string | null
  email: string | null
  verified: boolean | null
  created_at: string
}

export interface UserLogin {
  kind: string
  ip: string
  success: boolean
  message: string
  created_at: string
}

export interface UserOrder {
  id: string
  total_amount: string
  pay_amount: string
  status: string
  paid_at: string | null
  created_at: string
}

export interface LedgerEntry {
  id: string
  delta: number
  reason: string
  actor_id: string
  created_at: string
}

export interface AdminUserDetail extends AdminUser {
  bindings: UserBinding[]
  recent_logins: UserLogin[]
  recent_orders: UserOrder[]
  times_ledger: LedgerEntry[]
}

export interface AuditEntry {
  id: string
  actor_id: string
  action: string
  target: string
  before: Record<string, unknown> | null
  after: Record<string, unknown> | null
  ip: string | null
  created_at: string
}

/** The largest change one adjustment may make, either way (the server's bound). */
export const DELTA_MAX = 100000
/** The longest reason the server takes. */
export const REASON_MAX = 200

/** One page of users, newest first; `q` is an email substring or an exact id. */
export async function searchUsers(q: string, cursor: string | null = null): Promise<Page<AdminUser>> {
  return pageOf(
    await request<Page<AdminUser>>('/api/admin/users', { query: { q: q.trim() || null, cursor } }),
  )
}

export function getAdminUser(id: string): Promise<AdminUserDetail> {
  return request(`/api/admin/users/${encodeURIComponent(id)}`)
}

export function adjustChatTimes(id: string, delta: number, reason: string): Promise<{ can_conversation_times: number }> {
  return request(`/api/admin/users/${encodeURIComponent(id)}/chat-times`, {
    method: 'POST',
    body: { delta, reason: reason.trim() },
  })
}

export function setUserDisabled(id: string, disabled: boolean, reason: string): Promise<AdminUser> {
  const action = disabled ? 'disable' : 'enable'
  return request(`/api/admin/users/${encodeURIComponent(id)}/${action}`, {
    method: 'POST',
    body: { reason: reason.trim() },
  })
}

/** Whether an adjustment may be sent: a whole non-zero delta within bounds and a reason. */
export function adjustmentValid(delta: number | null, reason: string): boolean {
  const r = reason.trim()
  return (
    delta !== null && Number.isInteger(delta) && delta !== 0 && Math.abs(delta) <= DELTA_MAX &&
    r.length > 0 && [...r].length <= REASON_MAX
  )
}

export async function listAuditLog(
  filter: { actor: string; action: string },
  cursor: string | null = null,
): Promise<Page<AuditEntry>> {
  return pageOf(
    await request<Page<AuditEntry>>('/api/admin/audit-log', {
      query: { actor: filter.actor.trim() || null, action: filter.action.trim() || null, cursor },
    }),
  )
}
