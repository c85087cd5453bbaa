/** True on phone-sized screens; tracks resizes. */
import { onBeforeUnmount, onMounted, ref } from 'vue'

export function useIsMobile(maxWidth = 768) {
  const query = `(max-width: ${maxWidth}px)`
  const mobile = ref(typeof window !== 'undefined' && !!window.matchMedia?.(query).matches)
  let mql: MediaQueryList | null = null
  const update = () => {
    mobile.value = !!mql?.matches
  }
  onMounted(() => {
    mql = window.matchMedia?.(query) ?? null
    update()
    mql?.addEventListener('change', update)
  })
  onBeforeUnmount(() => mql?.removeEventListener('change', update))
  return mobile
}
