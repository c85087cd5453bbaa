/** Turns any thrown value into a sentence in the current language. */
import { ApiError } from '@/api/http'
import { hasKey, translate } from '@/locales'

/** One field's problem in the current language; the server's own words only as a last resort in English. */
export function fieldErrorText(field: string, problem: string): string {
  const key = `fields.${field}`
  return hasKey(key) ? translate(key) : translate('fields.other', { field, problem })
}

/** The localized problems of a validation error, by the API's field names, to show at each field. */
export function fieldErrorsOf(e: unknown): Record<string, string> {
  if (!(e instanceof ApiError)) return {}
  return Object.fromEntries(Object.entries(e.fields).map(([field, problem]) => [field, fieldErrorText(field, problem)]))
}

/** A wait in the current language: seconds under two minutes, then whole minutes (rounded up). */
export function waitText(secs: number): string {
  return secs < 120 ? translate('errors.wait.seconds', { n: secs }) : translate('errors.wait.minutes', { n: Math.ceil(secs / 60) })
}

export function errorText(e: unknown): string {
  if (e instanceof ApiError) {
    const key = `errors.${e.code}`
    // Only a code we have no text for shows the server's message.
    if (!hasKey(key)) return translate('errors.unknown', { message: e.message })
    const wait = e.retryAfterSecs
    // Told to wait: say for how long, e.g. "try again in 42 s".
    if (wait !== undefined && wait > 0 && hasKey(`errors.wait.${e.code}`)) {
      return translate(`errors.wait.${e.code}`, { time: waitText(wait) })
    }
    const base = translate(key)
    // A specific code says it all; the generic invalid_request needs to say which field.
    if (e.code !== 'invalid_request') return base
    const details = Object.values(fieldErrorsOf(e))
    return details.length ? translate('errors.withDetails', { base, details: details.join(translate('errors.listSeparator')) }) : base
  }
  if (e instanceof Error) return translate('errors.unknown', { message: e.message })
  return translate('errors.unknown', { message: String(e) })
}

export function isAbort(e: unknown): boolean {
  return e instanceof DOMException ? e.name === 'AbortError' : e instanceof Error && e.name === 'AbortError'
}
