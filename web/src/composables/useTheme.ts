/** Light/dark preference, persisted; defaults to the system setting. */
import { computed, ref } from 'vue'

const KEY = 'paychat.theme'

function initial(): boolean {
  try {
    const saved = localStorage.getItem(KEY)
    if (saved === 'dark') return true
    if (saved === 'light') return false
  } catch {
    // ignore
  }
  return typeof window !== 'undefined' && !!window.matchMedia?.('(prefers-color-scheme: dark)').matches
}

const dark = ref(initial())

// Another tab switched the theme: follow it.
if (typeof window !== 'undefined') {
  window.addEventListener('storage', (e) => {
    if (e.key === KEY && (e.newValue === 'dark' || e.newValue === 'light')) dark.value = e.newValue === 'dark'
  })
}

export function useTheme() {
  function setDark(v: boolean): void {
    dark.value = v
    try {
      localStorage.setItem(KEY, v ? 'dark' : 'light')
    } catch {
      // ignore
    }
  }
  return { isDark: computed(() => dark.value), setDark, toggle: () => setDark(!dark.value) }
}
