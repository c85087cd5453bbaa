/** Turns any thrown value into a sentence in the current language. */
import { ApiError } from '@/api/http'
import { hasKey, translate } from '@/locales'

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const key = `errors.${e.code}`
    const base = hasKey(key) ? translate(key) : translate('errors.unknown', { message: e.message })
    const fields = Object.values(e.fields)
    return fields.length ? `${base}: ${fields.join('; ')}` : base
  }
  if (e instanceof Error) return translate('errors.unknown', { message: e.message })
  return translate('errors.unknown', { message: String(e) })
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException ? e.name === 'AbortError' : e instanceof Error && e.name === 'AbortError'
}
