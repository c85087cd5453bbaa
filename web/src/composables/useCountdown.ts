/** Seconds left until a deadline, ticking once a second while mounted. */
import { computed, onBeforeUnmount, ref, type Ref } from 'vue'

export function useCountdown(deadline: Ref<string | null>) {
  const now = ref(Date.now())
  const timer = setInterval(() => (now.value = Date.now()), 1000)
  onBeforeUnmount(() => clearInterval(timer))
  const secondsLeft = computed(() => {
    if (!deadline.value) return null
    const t = Date.parse(deadline.value)
    if (Number.isNaN(t)) return null
    return Math.max(0, Math.floor((t - now.value) / 1000))
  })
  return { secondsLeft }
}
