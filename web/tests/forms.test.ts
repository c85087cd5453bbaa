import { describe, expect, it } from 'vitest'
import { ApiError } from '@/api/http'
import { emailProblem, passwordProblem, useEmailResend, useFormSubmit } from '@/composables/useFormSubmit'
import { translate } from '@/locales'

describe('useFormSubmit', () => {
  it('stops at the first problem without running the request', async () => {
    const { busy, error, run } = useFormSubmit()
    let ran = false
    await run(
      () => 'bad input',
      async () => {
        ran = true
      },
    )
    expect(ran).toBe(false)
    expect(error.value).toBe('bad input')
    expect(busy.value).toBe(false)
  })

  it('is busy while the request runs and clears the last error', async () => {
    const { busy, error, run } = useFormSubmit()
    error.value = 'old'
    let busyInside = false
    await run(
      () => null,
      async () => {
        busyInside = busy.value
      },
    )
    expect(busyInside).toBe(true)
    expect(busy.value).toBe(false)
    expect(error.value).toBe('')
  })

  it('hands a failure to onError and shows it as text', async () => {
    const { busy, error, run } = useFormSubmit()
    const seen: unknown[] = []
    const failure = new Error('boom')
    await run(
      () => null,
      async () => {
        throw failure
      },
      (e) => seen.push(e),
    )
    expect(seen).toEqual([failure])
    expect(error.value).toBe(translate('errors.unknown', { message: 'boom' }))
    expect(busy.value).toBe(false)
  })
})

describe('field checks', () => {
  it('wants eight characters of password', () => {
    expect(passwordProblem('1234567')).toBe(translate('auth.passwordMin'))
    expect(passwordProblem('12345678')).toBeNull()
  })

  it('wants an @ in the address', () => {
    expect(emailProblem('nobody')).toBe(translate('auth.emailRequired'))
    expect(emailProblem('a@example.com')).toBeNull()
  })
})

describe('useEmailResend', () => {
  it('sends the trimmed address and reports it sent', async () => {
    const sentTo: string[] = []
    const r = useEmailResend(async (email) => {
      sentTo.push(email)
    })
    r.email.value = '  a@example.com '
    await r.submit()
    expect(sentTo).toEqual(['a@example.com'])
    expect(r.sent.value).toBe(true)
    expect(r.error.value).toBe('')
  })

  it('does not send without an @ and shows the server error otherwise', async () => {
    let calls = 0
    const r = useEmailResend(async () => {
      calls += 1
      throw new ApiError(429, { code: 'rate_limited', message: 'slow down' })
    })
    r.email.value = 'nobody'
    await r.submit()
    expect(calls).toBe(0)
    expect(r.error.value).toBe(translate('auth.emailRequired'))
    r.email.value = 'a@example.com'
    await r.submit()
    expect(calls).toBe(1)
    expect(r.sent.value).toBe(false)
    expect(r.error.value).not.toBe('')
  })
})
