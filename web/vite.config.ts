/// <reference types="vitest/config" />
import { defineConfig } from 'vite'
import vue from '@vitejs/plugin-vue'
import { fileURLToPath, URL } from 'node:url'

// Local development: the same routing the nginx edge does in front of the services.
// More specific prefixes first; vite matches proxy keys in insertion order.
const CHAT_API = 'http://127.0.0.1:8081'
const ORDERS = 'http://127.0.0.1:8082'
const GATEWAY = 'http://127.0.0.1:8083'

export default defineConfig({
  plugins: [vue()],
  resolve: {
    alias: { '@': fileURLToPath(new URL('./src', import.meta.url)) },
  },
  server: {
    proxy: {
      '/api/chat': { target: CHAT_API, changeOrigin: false },
      '/api/auth': { target: CHAT_API, changeOrigin: false },
      '/api/users': { target: CHAT_API, changeOrigin: false },
      '/api/admin/sensitive-words': { target: CHAT_API, changeOrigin: false },
      '/api/alipay': { target: GATEWAY, changeOrigin: false },
      '/api': { target: ORDERS, changeOrigin: false },
    },
  },
  build: {
    outDir: 'dist',
    chunkSizeWarningLimit: 1200,
  },
  test: {
    environment: 'happy-dom',
    include: ['tests/**/*.test.ts'],
  },
})
