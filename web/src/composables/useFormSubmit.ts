/**
 * The submit pattern the account forms share: check the inputs, run the request
 * with a busy flag, and show a failure as one line in the current language.
 */
import { ref } from 'vue'
import { useMessage } from 'naive-ui'
import { resendVerification } from '@/api/auth'
import { errorText } from '@/composables/useErrorText'
import { translate } from '@/locales'

/** Shortest password the server accepts (API.md, register and reset). */
export const PASSWORD_MIN_LENGTH = 8

/** The message for a password that is too short, or null when it is long enough. */
export function passwordProblem(password: string): string | null {
  return password.length < PASSWORD_MIN_LENGTH ? translate('auth.passwordMin') : null
}

/** The message for an address without an "@", or null; the server does the real check. */
export function emailProblem(email: string): string | null {
  return email.includes('@') ? null : translate('auth.emailRequired')
}

export function useFormSubmit() {
  const busy = ref(false)
  const error = ref('')

  /**
   * Clears the last error, stops with the first problem `checks` reports, otherwise
   * runs `action`; a thrown error goes to `onError` first, then becomes `error`.
   */
  async function run(
    checks: () => string | null,
    action: () => Promise<void>,
    onError?: (e: unknown) => void,
  ): Promise<void> {
    error.value = ''
    const problem = checks()
    if (problem) {
      error.value = problem
      return
    }
    busy.value = true
    try {
      await action()
    } catch (e) {
      onError?.(e)
      error.value = errorText(e)
    } finally {
      busy.value = false
    }
  }

  return { busy, error, run }
}

/** "Enter your email, send again, show the answer": the address, the flags and the submit. */
export function useEmailResend(send: (email: string) => Promise<unknown>) {
  const email = ref('')
  const sent = ref(false)
  const { busy, error, run } = useFormSubmit()

  function submit(): Promise<void> {
    return run(
      () => emailProblem(email.value),
      async () => {
        await send(email.value.trim())
        sent.value = true
      },
    )
  }

  return { email, sent, busy, error, submit }
}

/** Sends the verification mail again from a button, the answer shown as a toast. */
export function useResendVerification() {
  const message = useMessage()
  return async function resend(email: string): Promise<void> {
    try {
      await resendVerification(email)
      message.success(translate('auth.resent'))
    } catch (e) {
      message.error(errorText(e))
    }
  }
}
