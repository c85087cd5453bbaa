/** How a redemption code's validity reads: never ends, valid until a date, expired, or used up. */
export interface CodeExpiry {
  state: 'never' | 'valid' | 'expired' | 'used'
  at: string | null
}

export function codeExpiry(code: { expires_at: string | null; used: boolean }, now: Date = new Date()): CodeExpiry {
  if (code.used) return { state: 'used', at: code.expires_at }
  if (!code.expires_at) return { state: 'never', at: null }
  const at = new Date(code.expires_at).getTime()
  return { state: !Number.isNaN(at) && at <= now.getTime() ? 'expired' : 'valid', at: code.expires_at }
}
