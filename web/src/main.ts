import { createApp } from 'vue'
import { createPinia } from 'pinia'
import App from './App.vue'
import { router } from './router'
import { configureHttp } from './api/http'
import { useAuthStore } from './stores/auth'
import { useChatStore } from './stores/chat'
import { useOrdersStore } from './stores/orders'
import { useI18n } from './locales'
import { installA11yFixes } from './utils/a11y'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)

const auth = useAuthStore()
configureHttp({
  token: () => auth.token,
  unauthorized: () => {
    auth.clear()
    useChatStore().reset()
    useOrdersStore().reset()
    const current = router.currentRoute.value
    if (current.matched.some((r) => r.meta.auth)) {
      router.replace({ name: 'login', query: { redirect: current.fullPath } }).catch(() => {})
    }
  },
})
document.documentElement.lang = useI18n().locale.value

app.use(router)
app.mount('#app')
installA11yFixes()
