/**
 * A list read page by page: the first page on load, the next one (the API's `next_cursor`)
 * on "load more". A refresh reads as many items again as were shown.
 */
import { computed, ref, type Ref } from 'vue'
import type { Page } from '@/api/types'

/** A loop guard for a refresh that reads several pages again. */
const MAX_PAGES = 50

export function usePagedList<T>(fetchPage: (cursor: string | null) => Promise<Page<T>>, keyOf: (item: T) => string) {
  const items = ref([]) as Ref<T[]>
  const nextCursor = ref<string | null>(null)
  const loading = ref(false)
  const loadingMore = ref(false)
  const hasMore = computed(() => nextCursor.value !== null)
  // A newer load wins over an older one still in flight.
  let generation = 0

  function merge(into: T[], page: T[]): T[] {
    const seen = new Set(into.map(keyOf))
    return [...into, ...page.filter((i) => !seen.has(keyOf(i)))]
  }

  /** Reads the first page again; with `keepShown`, as many pages as it takes to show as many items as now. */
  async function load(keepShown = false): Promise<void> {
    const gen = ++generation
    const want = keepShown ? items.value.length : 0
    loading.value = true
    try {
      let page = await fetchPage(null)
      let all = page.items
      for (let n = 1; n < MAX_PAGES && all.length < want && page.next_cursor; n++) {
        page = await fetchPage(page.next_cursor)
        all = merge(all, page.items)
      }
      if (gen !== generation) return
      items.value = all
      nextCursor.value = page.next_cursor
    } finally {
      if (gen === generation) loading.value = false
    }
  }

  async function loadMore(): Promise<void> {
    const cursor = nextCursor.value
    if (!cursor || loadingMore.value || loading.value) return
    const gen = generation
    loadingMore.value = true
    try {
      const page = await fetchPage(cursor)
      if (gen !== generation) return
      items.value = merge(items.value, page.items)
      nextCursor.value = page.next_cursor === cursor ? null : page.next_cursor
    } finally {
      loadingMore.value = false
    }
  }

  function reset(): void {
    generation++
    items.value = []
    nextCursor.value = null
    loading.value = false
    loadingMore.value = false
  }

  return { items, nextCursor, hasMore, loading, loadingMore, load, loadMore, reset }
}
