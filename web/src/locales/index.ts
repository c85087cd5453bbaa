/**
 * A small i18n of our own: two message trees, a reactive locale that follows the browser's
 * language until the user picks one (the pick is kept in localStorage),
 * `t('a.b', {n: 1})` with `{name}` placeholders. Missing keys show the key itself.
 */
import { computed, ref } from 'vue'
import zhCN, { type Messages } from './zh-CN'
import en from './en'

export type Locale = 'zh-CN' | 'en'
export const LOCALES: { value: Locale; label: string }[] = [
  { value: 'zh-CN', label: '简体中文' },
  { value: 'en', label: 'English' },
]

const STORAGE_KEY = 'paychat.locale'
const trees: Record<Locale, Messages> = { 'zh-CN': zhCN, en }

/** The browser's preferred languages, best first: zh* is Chinese, anything else English. */
export function detectLocale(languages: readonly string[]): Locale {
  const first = languages.find((l) => typeof l === 'string' && l.trim() !== '')
  return first && first.trim().toLowerCase().startsWith('zh') ? 'zh-CN' : 'en'
}

/** The user's own pick when there is one, otherwise the browser's language. */
export function initialLocale(): Locale {
  try {
    const saved = localStorage.getItem(STORAGE_KEY)
    if (saved === 'zh-CN' || saved === 'en') return saved
  } catch {
    // storage unavailable: follow the browser
  }
  if (typeof navigator === 'undefined') return 'zh-CN'
  const languages = navigator.languages?.length ? navigator.languages : [navigator.language ?? '']
  return detectLocale(languages)
}

const locale = ref<Locale>(initialLocale())

function lookup(tree: unknown, key: string): string | undefined {
  let node: unknown = tree
  for (const part of key.split('.')) {
    if (node && typeof node === 'object' && part in node) node = (node as Record<string, unknown>)[part]
    else return undefined
  }
  return typeof node === 'string' ? node : undefined
}

export function translate(key: string, params?: Record<string, string | number>, loc: Locale = locale.value): string {
  const template = lookup(trees[loc], key) ?? lookup(trees['zh-CN'], key) ?? key
  if (!params) return template
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in params ? String(params[name]) : m))
}

export function hasKey(key: string): boolean {
  return lookup(trees[locale.value], key) !== undefined
}

export function setLocale(l: Locale): void {
  locale.value = l
  try {
    localStorage.setItem(STORAGE_KEY, l)
  } catch {
    // not persisted; fine
  }
  document.documentElement.lang = l
}

export function useI18n() {
  return {
    locale: computed(() => locale.value),
    t: translate,
    setLocale,
  }
}
