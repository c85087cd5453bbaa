/**
 * Buying chat times: the recharge selection and its running total, placing the order, which
 * order the payment dialog shows, the user's orders and codes, and redeeming a code.
 */
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { ApiError } from '@/api/http'
import * as ordersApi from '@/api/orders'
import { listAllProducts } from '@/api/products'
import { usePagedList } from '@/composables/usePagedList'
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

  const ordersList = usePagedList<Order>((cursor) => ordersApi.listOrdersPage({ cursor }), (o) => o.id)
  const orders = ordersList.items
  const ordersLoading = ordersList.loading
  const ordersHasMore = ordersList.hasMore
  const ordersLoadingMore = ordersList.loadingMore
  const codesList = usePagedList<ExchangeCode>((cursor) => codesApi.listCodesPage(cursor), (c) => c.code)
  const codes = codesList.items
  const codesLoading = codesList.loading
  const codesHasMore = codesList.hasMore
  const codesLoadingMore = codesList.loadingMore

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
    refreshCodes().catch(() => {})
    ordersList.load(true).catch(() => {})
  }

  /** The first page of my orders. */
  function loadOrders(): Promise<void> {
    return ordersList.load()
  }

  function loadMoreOrders(): Promise<void> {
    return ordersList.loadMore()
  }

  async function closeOrder(id: string): Promise<void> {
    const updated = await ordersApi.closeOrder(id)
    orders.value = orders.value.map((o) => (o.id === id ? { ...o, ...(updated ?? {}), status: 'closed' } : o))
  }

  /** The first page of my codes. */
  function loadCodes(): Promise<void> {
    return codesList.load()
  }

  function loadMoreCodes(): Promise<void> {
    return codesList.loadMore()
  }

  /** Reads my codes again from the server, as many as are shown now. */
  function refreshCodes(): Promise<void> {
    return codesList.load(true)
  }

  function openRedeem(code = ''): void {
    redeemPrefill.value = code
    redeemOpen.value = true
  }

  async function redeem(code: string): Promise<RedeemResponse> {
    const res = await codesApi.redeemCode(code.trim())
    useAuthStore().setChatTimes(res.can_conversation_times)
    // The server decides which code that was (e.g. typed in another case): read the list again.
    refreshCodes().catch(() => {})
    return res
  }

  function reset(): void {
    quantities.value = {}
    unpaidOrderId.value = null
    rechargeOpen.value = false
    payOrderId.value = null
    redeemOpen.value = false
    ordersList.reset()
    codesList.reset()
  }

  return {
    products, productsLoading, showAllProducts, visibleProducts, hiddenProductCount, quantities, placing, unpaidOrderId, rechargeOpen, payOrderId, redeemOpen,
    redeemPrefill, celebrating, orders, ordersLoading, ordersHasMore, ordersLoadingMore, codes, codesLoading, codesHasMore,
    codesLoadingMore, selection, totalInCents, totalText,
    loadProducts, showMoreProducts, setQuantity, openRecharge, placeOrder, payUnpaid, closeUnpaid, openPayment, closePayment,
    paymentCompleted, loadOrders, loadMoreOrders, closeOrder, loadCodes, loadMoreCodes, refreshCodes, openRedeem, redeem, reset,
  }
})
