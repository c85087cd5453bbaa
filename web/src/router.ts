/** Routes and the guard that keeps signed-out visitors on the public pages. */
import { createRouter, createWebHistory, type RouteRecordRaw } from 'vue-router'
import { useAuthStore } from '@/stores/auth'

declare module 'vue-router' {
  interface RouteMeta {
    auth?: boolean
    admin?: boolean
    guest?: boolean
  }
}

const routes: RouteRecordRaw[] = [
  // Visitors see the landing page; the guard sends signed-in users on to the chat.
  { path: '/', name: 'landing', component: () => import('@/views/LandingView.vue'), meta: { guest: true } },
  { path: '/login', name: 'login', component: () => import('@/views/LoginView.vue'), meta: { guest: true } },
  { path: '/register', name: 'register', component: () => import('@/views/RegisterView.vue'), meta: { guest: true } },
  { path: '/forgot-password', name: 'forgot', component: () => import('@/views/ForgotPasswordView.vue') },
  { path: '/reset-password', name: 'reset', component: () => import('@/views/ResetPasswordView.vue') },
  { path: '/verify/success', name: 'verify-success', component: () => import('@/views/VerifySuccessView.vue') },
  { path: '/verify/failure', name: 'verify-failure', component: () => import('@/views/VerifyFailureView.vue') },
  // Where a provider sign-in (or linking one) comes back to: exchanges the ticket or shows why not.
  { path: '/oauth/done', name: 'oauth-done', component: () => import('@/views/OAuthDoneView.vue') },
  { path: '/oauth/link', name: 'oauth-link', component: () => import('@/views/OAuthLinkView.vue') },
  {
    path: '/',
    component: () => import('@/components/AppLayout.vue'),
    meta: { auth: true },
    children: [
      { path: 'chat/:roomId?', name: 'chat', component: () => import('@/views/ChatView.vue') },
      { path: 'orders', name: 'orders', component: () => import('@/views/OrdersView.vue') },
      { path: 'codes', name: 'codes', component: () => import('@/views/CodesView.vue') },
      { path: 'account', name: 'account', component: () => import('@/views/AccountView.vue') },
      {
        path: 'admin/dashboard',
        name: 'admin-dashboard',
        component: () => import('@/views/admin/AdminDashboardView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/users',
        name: 'admin-users',
        component: () => import('@/views/admin/AdminUsersView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/payments',
        name: 'admin-payments',
        component: () => import('@/views/admin/AdminPaymentsView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/codes',
        name: 'admin-codes',
        component: () => import('@/views/admin/AdminCodesView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/llm-keys',
        name: 'admin-llm-keys',
        component: () => import('@/views/admin/AdminLlmKeysView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/audit-log',
        name: 'admin-audit',
        component: () => import('@/views/admin/AdminAuditView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/products',
        name: 'admin-products',
        component: () => import('@/views/admin/AdminProductsView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/orders',
        name: 'admin-orders',
        component: () => import('@/views/admin/AdminOrdersView.vue'),
        meta: { admin: true },
      },
      {
        path: 'admin/sensitive-words',
        name: 'admin-words',
        component: () => import('@/views/admin/AdminWordsView.vue'),
        meta: { admin: true },
      },
    ],
  },
  { path: '/:pathMatch(.*)*', redirect: '/' },
]

export const router = createRouter({ history: createWebHistory(), routes })

router.beforeEach(async (to) => {
  const auth = useAuthStore()
  const needsAuth = to.matched.some((r) => r.meta.auth)
  if (needsAuth && !auth.isLoggedIn) return { name: 'login', query: { redirect: to.fullPath } }
  if (auth.isLoggedIn && !auth.user) {
    try {
      await auth.fetchMe()
    } catch {
      if (!auth.isLoggedIn && needsAuth) return { name: 'login', query: { redirect: to.fullPath } }
    }
  }
  if (to.meta.guest && auth.isLoggedIn && auth.user) return { name: 'chat' }
  if (to.matched.some((r) => r.meta.admin) && !auth.isAdmin) return { name: 'chat' }
  return true
})
