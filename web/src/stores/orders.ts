/**
 * Buying chat times: the recharge selection and its running total, placing the order, which
 * order the payment dialog shows, the user's orders and codes, and redeeming a code.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/http'
import * as ordersApi from '@/api/orders'
import { listAllProducts } from '@/api/products'
import * as codesApi from '@/api/codes'
import type { ExchangeCode, Order, Product, RedeemResponse } from '@/api/types'
import { formatCents, totalCents } from '@/utils/money'
import { FIRST_PRODUCTS, soldOutLast } from '@/utils/products'
import { useAuthStore } from './auth'

export const useOrdersStore = defineStore('orders', () => {
  /** Every product on sale: the API's order, sold-out ones last. */
  const products = ref<Product[]>([])
  const productsLoading = ref(false)
  /** The recharge dialog shows the first few products until the buyer asks for the rest. */
  const showAllProducts = ref(false)
  const quantities = ref<Record<string, number>>({})
  const placing = ref(false)
  /** An unpaid order the server pointed at instead of creating a new one. */
  const unpaidOrderId = ref<string | null>(null)

  const rechargeOpen = ref(false)
  const payOrderId = ref<string | null>(null)
  const redeemOpen = ref(false)
  const redeemPrefill = ref('')
  const celebrating = ref(false)

  const orders = ref<Order[]>([])
  const ordersLoading = ref(false)
  const codes = ref<ExchangeCode[]>([])
  const codesLoading = ref(false)

  const selection = computed(() =>
    products.value
      .map((p) => ({ product: p, quantity: quantities.value[p.id] ?? 0 }))
      .filter((l) => l.quantity > 0),
  )
  const totalInCents = computed(() =>
    totalCents(selection.value.map((l) => ({ price: l.product.price, quantity: l.quantity }))),
  )
  const totalText = computed(() => formatCents(totalInCents.value))
  const visibleProducts = computed(() =>
    showAllProducts.value ? products.value : products.value.slice(0, FIRST_PRODUCTS),
  )
  const hiddenProductCount = computed(() => products.value.length - visibleProducts.value.length)

  async function loadProducts(): Promise<void> {
    productsLoading.value = true
    try {
      products.value = soldOutLast(await listAllProducts())
      // Keep chosen quantities within what is still in stock.
      const q: Record<string, number> = {}
      for (const p of products.value) q[p.id] = Math.min(quantities.value[p.id] ?? 0, Math.max(0, p.stock))
      quantities.value = q
    } finally {
      productsLoading.value = false
    }
  }

  function setQuantity(productId: string, n: number): void {
    const p = products.value.find((x) => x.id === productId)
    if (!p) return
    const capped = Math.max(0, Math.min(Math.trunc(Number.isFinite(n) ? n : 0), Math.max(0, p.stock)))
    quantities.value = { ...quantities.value, [productId]: capped }
  }

  function showMoreProducts(): void {
    showAllProducts.value = true
  }

  function openRecharge(): void {
    unpaidOrderId.value = null
    showAllProducts.value = false
    rechargeOpen.value = true
  }

  /**
   * Places an order for the selection with a fresh Idempotency-Key. On success the payment
   * dialog opens for it; when an unpaid order exists its id is kept and null returned.
   */
  async function placeOrder(): Promise<Order | null> {
    const items = selection.value.map((l) => ({ product_id: l.product.id, quantity: l.quantity }))
    if (items.length === 0 || placing.value) return null
    placing.value = true
    unpaidOrderId.value = null
    try {
      const order = await ordersApi.createOrder({ items }, ordersApi.newIdempotencyKey())
      quantities.value = {}
      rechargeOpen.value = false
      openPayment(order.id)
      return order
    } catch (e) {
      if (e instanceof ApiError && e.code === 'unpaid_order_exists') {
        unpaidOrderId.value = e.detail('order_id') ?? null
        return null
      }
      if (e instanceof ApiError && e.code === 'out_of_stock') await loadProducts().catch(() => {})
      throw e
    } finally {
      placing.value = false
    }
  }

  function payUnpaid(): void {
    if (!unpaidOrderId.value) return
    rechargeOpen.value = false
    openPayment(unpaidOrderId.value)
    unpaidOrderId.value = null
  }

  async function closeUnpaid(): Promise<void> {
    if (!unpaidOrderId.value) return
    await ordersApi.closeOrder(unpaidOrderId.value)
    unpaidOrderId.value = null
    await loadProducts().catch(() => {})
  }

  function openPayment(orderId: string): void {
    payOrderId.value = orderId
  }

  function closePayment(): void {
    payOrderId.value = null
  }

  /** The payment dialog saw the order completed. */
  function paymentCompleted(): void {
    payOrderId.value = null
    celebrating.value = true
    setTimeout(() => (celebrating.value = false), 4000)
    loadCodes().catch(() => {})
    loadOrders().catch(() => {})
  }

  async function loadOrders(): Promise<void> {
    ordersLoading.value = true
    try {
      orders.value = await ordersApi.listOrders()
    } finally {
      ordersLoading.value = false
    }
  }

  async function closeOrder(id: string): Promise<void> {
    const updated = await ordersApi.closeOrder(id)
    orders.value = orders.value.map((o) => (o.id === id ? { ...o, ...(updated ?? {}), status: 'closed' } : o))
  }

  async function loadCodes(): Promise<void> {
    codesLoading.value = true
    try {
      codes.value = await codesApi.listCodes()
    } finally {
      codesLoading.value = false
    }
  }

  function openRedeem(code = ''): void {
    redeemPrefill.value = code
    redeemOpen.value = true
  }

  async function redeem(code: string): Promise<RedeemResponse> {
    const res = await codesApi.redeemCode(code.trim())
    useAuthStore().setChatTimes(res.can_conversation_times)
    codes.value = codes.value.map((c) => (c.code === code.trim() ? { ...c, used: true } : c))
    return res
  }

  function reset(): void {
    quantities.value = {}
    unpaidOrderId.value = null
    rechargeOpen.value = false
    payOrderId.value = null
    redeemOpen.value = false
    orders.value = []
    codes.value = []
  }

  return {
    products, productsLoading, showAllProducts, visibleProducts, hiddenProductCount, quantities, placing, unpaidOrderId, rechargeOpen, payOrderId, redeemOpen,
    redeemPrefill, celebrating, orders, ordersLoading, codes, codesLoading, selection, totalInCents, totalText,
    loadProducts, showMoreProducts, setQuantity, openRecharge, placeOrder, payUnpaid, closeUnpaid, openPayment, closePayment,
    paymentCompleted, loadOrders, closeOrder, loadCodes, openRedeem, redeem, reset,
  }
})
