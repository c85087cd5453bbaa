/** Request and response shapes, mirroring docs/API.md. Ids and money are strings. */

export type Role = 'user' | 'admin'

export interface User {
  id: string
  email: string
  nickname: string
  description: string | null
  role: Role
  can_conversation_times: number
  last_login_ip: string | null
  created_at: string
  /** The language of the user's email; absent from older servers. */
  locale?: 'zh-CN' | 'en'
  /** The avatar's versioned URL (a new upload, a new URL); null without one. */
  avatar_url?: string | null
}

export interface LoginResponse {
  token: string
  expires_at: string
  user: User
}

export interface RegisterResponse {
  user_id: string
}

export interface ChatModel {
  id: string
  name: string
}

export interface Room {
  id: string
  title: string
  created_at: string
  updated_at: string
}

export interface Usage {
  prompt_tokens: number
  completion_tokens: number
  total_tokens: number
}

export interface ChatMessage {
  id: string
  parent_id: string | null
  role: 'user' | 'assistant'
  content: string
  status: string
  model: string | null
  created_at: string
  usage: Usage | null
}

export interface CompletionRequest {
  prompt: string
  room_id?: string
  parent_message_id?: string
  model?: string
  /** With room_id and no parent: start over at the room's root (an edited or regenerated first question). */
  from_root?: boolean
}

export interface MetaEvent {
  room_id: string
  question_id: string
  answer_id: string
  model: string
}

export interface DeltaEvent {
  content: string
}

export interface DoneEvent {
  usage: Usage | null
  remaining_times: number
  finish_reason: string | null
}

export interface ErrorEvent {
  code: string
  message: string
}

export interface Product {
  id: string
  name: string
  description: string
  price: string
  reward_use_times: number
  stock: number
  sale: number
  /** A flash-sale product (shorter payment window); absent from older servers. */
  seckill?: boolean
  /** The admin's display order: lower first (the API lists in this order); absent from older servers. */
  sort_order?: number
}

/** A product as the admin endpoints answer it: on sale or not. */
export interface AdminProduct extends Product {
  enabled: boolean
  expires_days: number
  /** Real stock in the database. */
  db_stock: number
}

export type OrderStatus = 'awaiting_payment' | 'awaiting_confirmation' | 'completed' | 'invalid' | 'closed' | 'refunded'

/** Money Alipay took for an order and gave back (e.g. a payment that came after the order closed). */
export interface OrderRefund {
  amount: string
  refunded_at: string
}

export interface OrderItem {
  product_id: string
  product_name: string
  product_price: string
  quantity: number
}

export interface Order {
  id: string
  status: OrderStatus
  type: 'normal' | 'seckill'
  total_amount: string
  pay_amount: string
  items: OrderItem[]
  qr_code: string | null
  created_at: string
  expires_at: string | null
  pay_time: string | null
  /** Set once a payment of the order was refunded; absent from older servers. */
  refund?: OrderRefund | null
  /** Why a closed order closed: the buyer closed it, or its payment window ran out. */
  close_reason?: 'buyer' | 'timeout' | null
  /** Present on the admin list. */
  user_id?: string
}

export interface CreateOrderRequest {
  items: { product_id: string; quantity: number }[]
  remark?: string
}

export interface PayResponse {
  order_id: string
  out_trade_no: string
  qr_code: string
  expires_at: string
}

export interface ExchangeCode {
  code: string
  product_name: string
  reward_use_times: number
  price: string
  used: boolean
  expires_at: string | null
}

export interface RedeemResponse {
  reward_use_times: number
  can_conversation_times: number
}

export interface NewProduct {
  name: string
  description: string
  price: string
  reward_use_times: number
  stock: number
  expires_days: number
  seckill?: boolean
  /** 0..=1000000, lower listed first; 0 when left out. */
  sort_order?: number
}

export interface ProductPatch {
  name?: string
  description?: string
  price?: string
  reward_use_times?: number
  enabled?: boolean
  sort_order?: number
}

export interface SensitiveWord {
  id: string
  word: string
  created_at?: string
}

export interface Page<T> {
  items: T[]
  next_cursor: string | null
}

/** One change of the chat times (GET /api/users/me/times-history). */
export interface TimesEntry {
  id: string
  kind: 'bought' | 'redeemed' | 'spent' | 'returned'
  /** +N redeemed, -1 spent, +1 returned; for `bought`, what the codes give once redeemed. */
  times: number
  created_at: string
  label: string | null
  room_id: string | null
  answer_id: string | null
}
