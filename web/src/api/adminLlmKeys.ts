/**
 * The operator console's upstream keys and models (role admin only). A key is only ever
 * answered masked (`sk-…abcd`) with its fingerprint; the secret goes one way, in the body of
 * a create or a replace.
 */
import { request } from './http'

export interface LlmKey {
  id: string
  label: string
  /** The mask, never the key. */
  key: string
  fingerprint: string
  enabled: boolean
  /** Set while every copy skips the key after a 401/403/429. */
  resting_until: string | null
  resting_reason: string | null
  last_error: string | null
  last_error_at: string | null
  created_at: string
  updated_at: string
}

export interface LlmKeyTest {
  ok: boolean
  status: number | null
  latency_ms: number
  model: string
  error: string | null
  llm_key: LlmKey
}

export interface LlmModel {
  name: string
  enabled: boolean
  /** The default model cannot be switched off. */
  default: boolean
  updated_at: string
}

/** The server's bounds. */
export const KEY_MIN = 8
export const KEY_MAX = 500
export const LABEL_MAX = 64

/** Why a key typed into the form would be refused, or null when it would be taken. */
export function keyProblem(key: string): 'length' | 'spaces' | null {
  const k = key.trim()
  if (/\s/.test(k)) return 'spaces'
  if ([...k].length < KEY_MIN || [...k].length > KEY_MAX) return 'length'
  return null
}

export async function listLlmKeys(): Promise<LlmKey[]> {
  return (await request<{ items: LlmKey[] }>('/api/admin/llm-keys')).items
}

export function createLlmKey(body: { key: string; label?: string; enabled?: boolean }): Promise<LlmKey> {
  return request('/api/admin/llm-keys', { method: 'POST', body })
}

export function updateLlmKey(id: string, body: { key?: string; label?: string; enabled?: boolean }): Promise<LlmKey> {
  return request(`/api/admin/llm-keys/${encodeURIComponent(id)}`, { method: 'PATCH', body })
}

export function deleteLlmKey(id: string): Promise<void> {
  return request(`/api/admin/llm-keys/${encodeURIComponent(id)}`, { method: 'DELETE' })
}

export function testLlmKey(id: string): Promise<LlmKeyTest> {
  return request(`/api/admin/llm-keys/${encodeURIComponent(id)}/test`, { method: 'POST' })
}

export async function listLlmModels(): Promise<LlmModel[]> {
  return (await request<{ items: LlmModel[] }>('/api/admin/llm-models')).items
}

export function setLlmModel(name: string, enabled: boolean): Promise<LlmModel> {
  return request(`/api/admin/llm-models/${encodeURIComponent(name)}`, { method: 'PATCH', body: { enabled } })
}
