/** Who is signed in: the bearer token (kept in localStorage) and the current user. */
import { defineStore } from 'pinia'
import { computed, ref, watch } from 'vue'
import * as authApi from '@/api/auth'
import { getMe, updateMe } from '@/api/users'
import type { User } from '@/api/types'
import { useI18n, type Locale } from '@/locales'

const TOKEN_KEY = 'paychat.token'

function readToken(): string | null {
  try {
    return localStorage.getItem(TOKEN_KEY)
  } catch {
    return null
  }
}

function writeToken(token: string | null): void {
  try {
    if (token) localStorage.setItem(TOKEN_KEY, token)
    else localStorage.removeItem(TOKEN_KEY)
  } catch {
    // private mode: the session lasts for this tab only
  }
}

export const useAuthStore = defineStore('auth', () => {
  const token = ref<string | null>(readToken())
  const user = ref<User | null>(null)

  const isLoggedIn = computed(() => token.value !== null)
  const isAdmin = computed(() => user.value?.role === 'admin')
  const chatTimes = computed(() => user.value?.can_conversation_times ?? null)

  /** The account keeps the UI's language, so its email is written in it; quiet on failure. */
  function saveLocale(l: Locale): void {
    const me = user.value
    if (!token.value || !me || !me.locale || me.locale === l) return
    updateMe({ locale: l })
      .then((updated) => {
        if (user.value?.id === updated.id) user.value = updated
      })
      .catch(() => {})
  }
  watch(useI18n().locale, saveLocale)

  /** Keeps a session the server gave (login, or a provider sign-in's exchange). */
  function adopt(res: { token: string; user: User }): User {
    token.value = res.token
    writeToken(res.token)
    user.value = res.user
    return res.user
  }

  async function login(email: string, password: string): Promise<User> {
    return adopt(await authApi.login({ email, password }))
  }

  /** Loads the user for a token kept from an earlier visit; a stale token is dropped by the 401 hook. */
  async function fetchMe(): Promise<User | null> {
    if (!token.value) return null
    user.value = await getMe()
    return user.value
  }

  function clear(): void {
    token.value = null
    user.value = null
    writeToken(null)
  }

  async function logout(): Promise<void> {
    try {
      if (token.value) await authApi.logout()
    } catch {
      // the session is gone either way
    } finally {
      clear()
    }
  }

  /** Reads the user again for a fresh count of chat times; quiet on failure. */
  function refreshChatTimes(): void {
    if (!token.value) return
    getMe()
      .then((me) => {
        if (token.value && user.value?.id === me.id) user.value = me
      })
      .catch(() => {})
  }

  function setChatTimes(n: number): void {
    if (user.value) user.value = { ...user.value, can_conversation_times: n }
  }

  return { token, user, isLoggedIn, isAdmin, chatTimes, adopt, login, fetchMe, logout, clear, setChatTimes, refreshChatTimes }
})
