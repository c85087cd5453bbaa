#!/usr/bin/env node
// End-to-end run of the web app against the whole platform, in Debian's Chromium:
// register → verify from the mail sink → log in → no chat times → recharge → pay (sandbox
// Alipay) → code under My codes → redeem → streamed answer → history after reload → a product
// beyond the fourth behind "more" → a closed order's payment dialog without its QR code → phone
// layout. One line per step, then "N passed, M failed"; exits 1 on any failure.
//
// Env: BASE_URL (http://127.0.0.1:18080), MAIL_URL (http://127.0.0.1:8025),
// SCREENSHOT_DIR (web/test-results/screenshots), ADMIN_EMAIL / ADMIN_PASSWORD (an address the
// services treat as admin; used to create products: one when none is on sale, and enough that
// a new one is listed beyond the fourth),
// ALIPAY_SIM_URL (http://127.0.0.1:8092, fallback payer), CHROMIUM (path to the browser).

import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const here = dirname(fileURLToPath(import.meta.url))
const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/$/, '')
const MAIL_URL = (process.env.MAIL_URL || 'http://127.0.0.1:8025').replace(/\/$/, '')
const ALIPAY_SIM_URL = (process.env.ALIPAY_SIM_URL || 'http://127.0.0.1:8092').replace(/\/$/, '')
const SCREENSHOT_DIR = resolve(process.env.SCREENSHOT_DIR || join(here, '..', 'test-results', 'screenshots'))
const ADMIN_EMAIL = process.env.ADMIN_EMAIL || ''
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || ''
const PAYMENT_TIMEOUT_MS = Number(process.env.PAYMENT_TIMEOUT_MS || 90_000)

const RUN = `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`
const USER_EMAIL = `e2e-${RUN}@paychat.test`
const USER_PASSWORD = `pw-${RUN}-Secret`

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim()
  } catch {
    return '/usr/bin/chromium'
  }
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))
const tid = (id) => `[data-testid="${id}"]`

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

/** Retries fn until it returns a truthy value or the time is up. */
async function eventually(what, fn, timeoutMs = 20_000, everyMs = 500) {
  const end = Date.now() + timeoutMs
  let last
  for (;;) {
    try {
      const v = await fn()
      if (v) return v
    } catch (e) {
      last = e
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${last.message}` : ''}`)
    await sleep(everyMs)
  }
}

// ---------- plain HTTP helpers (mail sink, admin set-up) ----------

async function api(path, { method = 'GET', body, token, headers = {} } = {}) {
  const res = await fetch(`${BASE_URL}${path}`, {
    method,
    redirect: 'manual',
    headers: {
      Accept: 'application/json',
      ...(body !== undefined ? { 'Content-Type': 'application/json' } : {}),
      ...(token ? { Authorization: `Bearer ${token}` } : {}),
      ...headers,
    },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  })
  const text = await res.text()
  let json = null
  try {
    json = text ? JSON.parse(text) : null
  } catch {
    json = null
  }
  return { status: res.status, json, headers: res.headers }
}

const items = (v) => (Array.isArray(v) ? v : v && Array.isArray(v.items) ? v.items : [])

function decodeEntities(s) {
  return s.replace(/&amp;/g, '&').replace(/&#x3D;|&#61;/g, '=').replace(/&quot;/g, '"').replace(/&#39;/g, "'")
}

/** The newest verification link mailed to `to`, waiting for it to arrive. */
async function verificationLink(to, notBefore = new Set()) {
  return eventually(`a verification email to ${to}`, async () => {
    const res = await fetch(`${MAIL_URL}/api/messages?to=${encodeURIComponent(to)}`)
    if (!res.ok) return null
    for (const m of items(await res.json())) {
      if (notBefore.has(m.id)) continue
      const body = `${m.text ?? ''}\n${decodeEntities(m.html ?? '')}`
      const link = /https?:\/\/[^\s"'<>]*verify-email\?code=[^\s"'<>]+/.exec(body)
      if (link) return link[0]
    }
    return null
  })
}

async function mailIds(to) {
  try {
    const res = await fetch(`${MAIL_URL}/api/messages?to=${encodeURIComponent(to)}`)
    return new Set(items(await res.json()).map((m) => m.id))
  } catch {
    return new Set()
  }
}

/** Logs the admin in over HTTP, registering and verifying the address first if needed. */
async function adminToken() {
  assert(ADMIN_EMAIL && ADMIN_PASSWORD, 'no product is on sale and ADMIN_EMAIL/ADMIN_PASSWORD are not set')
  let login = await api('/api/auth/login', { method: 'POST', body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  if (login.status !== 200) {
    const seen = await mailIds(ADMIN_EMAIL)
    const reg = await api('/api/auth/register', { method: 'POST', body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD, nickname: 'admin' } })
    assert([201, 409].includes(reg.status), `admin register answered ${reg.status} ${JSON.stringify(reg.json)}`)
    if (reg.status === 201) {
      const link = await verificationLink(ADMIN_EMAIL, seen)
      const v = await fetch(link, { redirect: 'manual' })
      assert(v.status >= 300 && v.status < 400, `verify link answered ${v.status}`)
    }
    login = await api('/api/auth/login', { method: 'POST', body: { email: ADMIN_EMAIL, password: ADMIN_PASSWORD } })
  }
  assert(login.status === 200, `admin login answered ${login.status} ${JSON.stringify(login.json)}`)
  assert(login.json.user?.role === 'admin', `${ADMIN_EMAIL} is not an admin (role ${login.json.user?.role})`)
  return login.json.token
}

async function ensureProduct() {
  const list = await api('/api/products?limit=4')
  assert(list.status === 200, `GET /api/products answered ${list.status}`)
  if (items(list.json).some((p) => p.stock > 0)) return 'existing'
  const token = await adminToken()
  const created = await api('/api/admin/products', {
    method: 'POST',
    token,
    body: { name: `E2E 体验包 ${RUN}`, description: '5 次对话 / 5 chats', price: '0.01', reward_use_times: 5, stock: 20, expires_days: 30 },
  })
  assert(created.status === 201 || created.status === 200, `create product answered ${created.status} ${JSON.stringify(created.json)}`)
  return 'created'
}

/** Every product on sale, following next_cursor. */
async function allProducts() {
  const all = []
  let cursor = null
  for (let n = 0; n < 50; n++) {
    const res = await api(`/api/products?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`)
    assert(res.status === 200, `GET /api/products answered ${res.status}`)
    all.push(...items(res.json))
    cursor = res.json?.next_cursor
    if (!cursor) break
  }
  return all
}

async function createProduct(token, name) {
  const created = await api('/api/admin/products', {
    method: 'POST',
    token,
    body: { name, description: '5 次对话 / 5 chats', price: '0.01', reward_use_times: 5, stock: 5, expires_days: 30 },
  })
  assert(created.status === 201 || created.status === 200, `create product answered ${created.status} ${JSON.stringify(created.json)}`)
  return created.json.id
}

/**
 * A product added now, placed beyond the fourth of the products on sale: enough older ones in
 * stock are made first, so the new one (no sales, newest) comes after at least four.
 */
async function productBeyondFourth() {
  const token = await adminToken()
  const inStock = (await allProducts()).filter((p) => p.stock > 0).length
  for (let i = inStock; i < 4; i++) await createProduct(token, `E2E 套餐 ${i + 1} ${RUN}`)
  const id = await createProduct(token, `E2E 新品 ${RUN}`)
  const offered = await allProducts()
  const order = [...offered.filter((p) => p.stock > 0), ...offered.filter((p) => p.stock <= 0)]
  const at = order.findIndex((p) => p.id === id)
  assert(at >= 4, `the new product is offered at position ${at + 1}, not beyond the fourth`)
  return id
}

// ---------- the run ----------

mkdirSync(SCREENSHOT_DIR, { recursive: true })
const userDataDir = mkdtempSync(join(tmpdir(), 'paychat-e2e-'))
let passed = 0
let failed = 0
let shotNo = 0
let stopped = false
let page
/** @type {import('playwright-core').BrowserContext} */
let context

async function shot(name) {
  if (!page) return
  shotNo++
  const file = join(SCREENSHOT_DIR, `${String(shotNo).padStart(2, '0')}-${name}.png`)
  try {
    await page.screenshot({ path: file, fullPage: false })
  } catch {
    // the page may be gone; the step result still stands
  }
}

async function step(name, fn) {
  if (stopped) {
    failed++
    console.log(`skip ${name}`)
    return
  }
  const started = Date.now()
  try {
    await fn()
    passed++
    console.log(`ok   ${name} (${Date.now() - started} ms)`)
  } catch (e) {
    failed++
    stopped = true
    console.log(`FAIL ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`)
    await shot(`FAILED-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}`)
  }
}

// A persistent context on a fresh temporary profile: nothing leaks in from an earlier run.
try {
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: chromiumPath(),
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
    viewport: { width: 1280, height: 820 },
    locale: 'zh-CN',
  })
} catch (e) {
  console.log(`FAIL launch chromium: ${e instanceof Error ? e.message.split('\n')[0] : e}`)
  rmSync(userDataDir, { recursive: true, force: true })
  console.log('0 passed, 1 failed')
  process.exit(1)
}

let roomUrl = ''
let timesBeforeRedeem = 0
let timesAfterRedeem = 0
let answerText = ''
let payInfo = null
let redeemedCode = ''

try {
  context.setDefaultTimeout(15_000)
  page = context.pages()[0] ?? (await context.newPage())
  page.on('pageerror', (e) => console.log(`     page error: ${e.message}`))

  await step('a product is on sale', async () => {
    const how = await ensureProduct()
    console.log(`     product: ${how}`)
  })

  await step('register a new user', async () => {
    await page.goto(`${BASE_URL}/register`)
    await page.locator(`${tid('register-email')} input`).fill(USER_EMAIL)
    await page.locator(`${tid('register-password')} input`).fill(USER_PASSWORD)
    await page.locator(`${tid('register-nickname')} input`).fill(`e2e ${RUN}`)
    await shot('register')
    await page.locator(tid('register-submit')).click()
    await page.locator(tid('register-done')).waitFor()
    await shot('register-done')
  })

  await step('open the verification link from the mail sink', async () => {
    const link = await verificationLink(USER_EMAIL)
    await page.goto(link)
    await page.waitForURL(/\/verify\/success/)
    await page.locator(tid('verify-success')).waitFor()
    await shot('verify-success')
  })

  await step('log in', async () => {
    await page.goto(`${BASE_URL}/login`)
    await page.locator(`${tid('login-email')} input`).fill(USER_EMAIL)
    await page.locator(`${tid('login-password')} input`).fill(USER_PASSWORD)
    await shot('login')
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/chat/)
    await page.locator(tid('user-times')).waitFor()
    await shot('chat-empty')
  })

  await step('with no chat times a question brings the recharge prompt, not an error', async () => {
    const times = Number(await page.locator(tid('user-times')).innerText())
    assert(times === 0, `a new user should start with 0 chat times, has ${times}`)
    await page.locator(tid('recharge-prompt')).waitFor()
    await page.locator(`${tid('chat-input')} textarea`).fill('你好')
    const answered = page.waitForResponse((r) => r.url().endsWith('/api/chat/completions'))
    await page.locator(tid('chat-send')).click()
    const res = await answered
    assert(res.status() === 402, `POST /api/chat/completions answered ${res.status()}, expected 402`)
    await page.locator(tid('recharge-prompt')).waitFor()
    assert((await page.locator(tid('answer-error')).count()) === 0, 'an error was shown instead of the recharge prompt')
    await shot('no-times-prompt')
  })

  await step('recharge one product and see the QR code', async () => {
    await page.locator(tid('recharge-now')).click()
    const dialog = page.locator(tid('recharge-dialog'))
    await dialog.waitFor()
    await dialog.locator('[data-product-card]').first().waitFor()
    const cards = dialog.locator('[data-product-card]')
    const n = await cards.count()
    let chosen = null
    for (let i = 0; i < n; i++) {
      const plus = cards.nth(i).locator(tid('qty-plus'))
      if (await plus.isEnabled()) {
        chosen = cards.nth(i)
        await plus.click()
        break
      }
    }
    assert(chosen, 'no product with stock in the recharge dialog')
    assert((await chosen.locator(tid('qty-value')).innerText()).trim() === '1', 'quantity did not become 1')
    const price = (await chosen.locator(tid('product-price')).innerText()).replace(/[^\d.]/g, '')
    const total = (await dialog.locator(tid('recharge-total')).innerText()).replace(/[^\d.]/g, '')
    assert(price === total, `total ${total} is not the price ${price}`)
    await shot('recharge-dialog')

    const payResponse = page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/api\/orders\/[^/]+\/pay$/.test(new URL(r.url()).pathname),
      { timeout: 30_000 },
    )
    await page.locator(tid('place-order')).click()
    const res = await payResponse
    assert(res.status() === 200, `POST /api/orders/{id}/pay answered ${res.status()}`)
    payInfo = await res.json()
    const qr = page.locator(tid('pay-qr'))
    await qr.waitFor()
    await eventually('the QR image to load', () => qr.evaluate((img) => img.complete && img.naturalWidth > 0), 10_000, 200)
    assert((await page.locator(tid('pay-link')).getAttribute('href')) === payInfo.qr_code, 'the payment link is not the qr_code')
    await page.locator(tid('pay-countdown')).waitFor()
    await shot('payment-qr')
  })

  await step('pay on the sandbox buyer page; the dialog closes itself', async () => {
    const buyer = await context.newPage()
    let paidByPage = false
    try {
      await buyer.goto(payInfo.qr_code, { timeout: 15_000 })
      const button = buyer.getByRole('button', { name: /pay|支付|付款/i }).first()
      await button.waitFor({ timeout: 5_000 })
      await buyer.screenshot({ path: join(SCREENSHOT_DIR, `${String(++shotNo).padStart(2, '0')}-sandbox-buyer-page.png`) })
      await button.click()
      await buyer.waitForLoadState('load').catch(() => {})
      paidByPage = true
    } catch (e) {
      console.log(`     buyer page not usable (${e.message.split('\n')[0]}); paying through ${ALIPAY_SIM_URL}/sim/pay`)
    } finally {
      await buyer.close().catch(() => {})
    }
    if (!paidByPage) {
      const res = await fetch(`${ALIPAY_SIM_URL}/sim/pay/${encodeURIComponent(payInfo.out_trade_no)}`, { method: 'POST' })
      assert(res.ok, `sim pay answered ${res.status}`)
    }
    await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden', timeout: PAYMENT_TIMEOUT_MS })
    await page.locator(tid('celebration')).waitFor({ timeout: 5_000 }).catch(() => {})
    await shot('paid-celebration')
  })

  await step('the code is under My codes', async () => {
    await page.locator(tid('nav-codes')).click()
    await page.locator(tid('codes-page')).waitFor()
    const unused = page.locator(`${tid('code-item')}[data-used="0"]`)
    await eventually('an unused code', async () => {
      if ((await unused.count()) > 0) return true
      await page.getByRole('button', { name: /刷新|refresh/i }).click()
      return false
    }, 30_000, 1_500)
    redeemedCode = (await unused.first().locator(tid('code-value')).innerText()).trim()
    assert(redeemedCode.length >= 6, `odd code ${redeemedCode}`)
    await shot('my-codes')
  })

  await step('redeem the code; chat times go up', async () => {
    timesBeforeRedeem = Number((await page.locator(tid('header-times')).innerText()).replace(/\D/g, ''))
    await page.locator(`${tid('code-item')}[data-used="0"]`).first().locator(tid('code-redeem')).click()
    const dialog = page.locator(tid('redeem-dialog'))
    await dialog.waitFor()
    const input = dialog.locator(`${tid('redeem-input')} input`)
    assert((await input.inputValue()).trim() === redeemedCode, 'the redeem dialog was not filled with the code')
    await shot('redeem-dialog')
    await dialog.locator(tid('redeem-submit')).click()
    await dialog.waitFor({ state: 'hidden' })
    timesAfterRedeem = await eventually('more chat times', async () => {
      const n = Number((await page.locator(tid('header-times')).innerText()).replace(/\D/g, ''))
      return n > timesBeforeRedeem ? n : null
    }, 10_000, 200)
    await page.locator(tid('nav-chat')).click()
    await page.locator(tid('chat-page')).waitFor()
    const shown = Number(await page.locator(tid('user-times')).innerText())
    assert(shown === timesAfterRedeem, `the user card shows ${shown}, expected ${timesAfterRedeem}`)
    console.log(`     chat times ${timesBeforeRedeem} → ${timesAfterRedeem}`)
  })

  await step('ask a question; the answer grows in several steps', async () => {
    await page.locator(tid('new-chat')).click()
    // Record every text the newest answer shows, from the browser's side, as it changes.
    await page.evaluate(() => {
      const w = /** @type {any} */ (window)
      w.__samples = []
      const record = () => {
        const all = document.querySelectorAll('[data-testid="message-assistant"]')
        const last = all[all.length - 1]
        if (!last) return
        const text = last.querySelector('[data-testid="answer-content"]')?.textContent ?? ''
        const status = last.getAttribute('data-status')
        const prev = w.__samples[w.__samples.length - 1]
        if (!prev || prev.text !== text || prev.status !== status) w.__samples.push({ text, status, t: performance.now() })
      }
      w.__observer = new MutationObserver(record)
      w.__observer.observe(document.body, { subtree: true, childList: true, characterData: true, attributes: true })
    })
    const question =
      'Please explain, in a few friendly sentences, why streaming answers token by token makes a chat feel fast. 请简单说明。'
    await page.locator(`${tid('chat-input')} textarea`).fill(question)
    await page.locator(tid('chat-send')).click()
    const last = page.locator(tid('message-assistant')).last()
    await eventually('the answer to finish', async () => (await last.getAttribute('data-status')) !== 'streaming', 60_000, 100)
    const status = await last.getAttribute('data-status')
    answerText = (await last.locator(tid('answer-content')).innerText()).trim()
    await shot('chat-answer')
    assert(status === 'done', `the answer ended as ${status}`)
    const samples = await page.evaluate(() => {
      const w = /** @type {any} */ (window)
      w.__observer.disconnect()
      return w.__samples
    })
    const finalText = (samples.filter((s) => s.status === 'done').pop()?.text ?? answerText).trim()
    // Distinct partial answers, in the order they were shown, each a beginning of the final one.
    const partial = []
    for (const s of samples) {
      const t = s.text.trim()
      if (s.status !== 'streaming' || !t || partial.includes(t)) continue
      partial.push(t)
    }
    const growing = partial.filter((t) => t.length < finalText.length && finalText.startsWith(t))
    console.log(`     ${samples.length} samples, ${partial.length} distinct partial answers, final ${finalText.length} chars`)
    assert(answerText.length > 0, 'the answer is empty')
    assert(growing.length >= 3, `only ${growing.length} growing intermediate states were seen`)
    for (let i = 1; i < growing.length; i++) {
      assert(growing[i].length > growing[i - 1].length, 'the answer shrank while streaming')
    }
    roomUrl = page.url()
    assert(/\/chat\/[^/]+$/.test(roomUrl), `the URL does not name the room: ${roomUrl}`)
  })

  await step('after a reload the answer is in the history', async () => {
    await page.reload()
    const last = page.locator(tid('message-assistant')).last()
    await last.waitFor()
    const text = (await last.locator(tid('answer-content')).innerText()).trim()
    assert(text === answerText, `history shows a different answer:\n${text}\nvs\n${answerText}`)
    assert((await page.locator(tid('message-user')).last().innerText()).includes('streaming answers'), 'the question is missing')
    await shot('history-after-reload')
  })

  let newProductId = ''
  let closedOrderId = ''

  await step('the recharge dialog offers a product beyond the fourth behind "more"', async () => {
    newProductId = await productBeyondFourth()
    await page.locator(tid('nav-recharge')).click()
    const dialog = page.locator(tid('recharge-dialog'))
    await dialog.waitFor()
    await dialog.locator('[data-product-card]').first().waitFor()
    const cards = dialog.locator('[data-product-card]')
    assert((await cards.count()) === 4, `the dialog first shows ${await cards.count()} products, not 4`)
    const card = dialog.locator(tid(`product-${newProductId}`))
    assert((await card.count()) === 0, 'the new product shows before "more" was asked for')
    await dialog.locator(tid('products-more')).waitFor()
    await sleep(400) // the dialog's fade-in, for the screenshot
    await shot('recharge-first-four')
    await dialog.locator(tid('products-more')).click()
    await card.waitFor()
    assert((await cards.count()) >= 5, '"more" revealed no further products')
    assert((await dialog.locator(tid('products-more')).count()) === 0, '"more" is still offered with everything shown')
    // Sold-out products come last.
    const soldOut = await cards.evaluateAll((els) => els.map((e) => e.getAttribute('data-sold-out')))
    assert(soldOut.join('') === [...soldOut].sort().join(''), `a sold-out product comes before one in stock: ${soldOut.join(',')}`)
    await card.scrollIntoViewIfNeeded()
    await shot('recharge-more')
  })

  await step('buy the new product, close the order: the payment dialog hides its QR code', async () => {
    const dialog = page.locator(tid('recharge-dialog'))
    const card = dialog.locator(tid(`product-${newProductId}`))
    await card.locator(tid('qty-plus')).click()
    assert((await card.locator(tid('qty-value')).innerText()).trim() === '1', 'quantity did not become 1')
    const payResponse = page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/api\/orders\/[^/]+\/pay$/.test(new URL(r.url()).pathname),
      { timeout: 30_000 },
    )
    await page.locator(tid('place-order')).click()
    const res = await payResponse
    assert(res.status() === 200, `POST /api/orders/{id}/pay answered ${res.status()}`)
    closedOrderId = (await res.json()).order_id
    await page.locator(tid('pay-qr')).waitFor()
    await page.locator(tid('pay-link')).waitFor()
    await shot('payment-before-close')

    // The order closes elsewhere (another tab, the timeout) while the dialog is open.
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    const closed = await api(`/api/orders/${closedOrderId}/close`, { method: 'POST', token })
    assert(closed.status === 200, `close answered ${closed.status} ${JSON.stringify(closed.json)}`)
    await page.locator(tid('pay-closed')).waitFor({ timeout: 15_000 })
    await page.locator(tid('pay-qr')).waitFor({ state: 'detached', timeout: 5_000 })
    assert((await page.locator(tid('pay-link')).count()) === 0, 'the payment link is still offered for a closed order')
    const text = (await page.locator(tid('pay-closed')).innerText()).trim()
    assert(text === '订单已关闭。', `the closed order reads "${text}"`)
    await shot('payment-closed')
    await page.keyboard.press('Escape')
    const hidden = await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)
    if (!hidden) {
      await page.locator(`${tid('payment-dialog')} .n-card-header__close`).click()
      await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden' })
    }
  })

  await step('phone screen (390x844): the chat page is usable', async () => {
    await page.setViewportSize({ width: 390, height: 844 })
    await page.goto(roomUrl)
    await page.locator(tid('message-assistant')).last().waitFor()
    for (const id of ['chat-input', 'chat-send', 'nav-recharge', 'rooms-toggle']) {
      const box = await page.locator(tid(id)).boundingBox()
      assert(box, `${id} is not visible`)
      assert(box.x >= 0 && box.x + box.width <= 390 + 1 && box.y + box.height <= 844 + 1, `${id} is outside the screen`)
    }
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert(overflow <= 0, `the page is ${overflow}px wider than the screen`)
    await shot('mobile-chat')
    await page.locator(tid('rooms-toggle')).click()
    await page.locator(tid('room-item')).first().waitFor()
    await shot('mobile-rooms-drawer')
    await page.keyboard.press('Escape')
    await page.locator(tid('room-item')).first().waitFor({ state: 'hidden' }).catch(() => {})
  })

  await step('phone screen (390x844): the recharge dialog is usable', async () => {
    await page.locator(tid('nav-recharge')).click()
    const dialog = page.locator(tid('recharge-dialog'))
    await dialog.waitFor()
    await dialog.locator('[data-product-card]').first().waitFor()
    const box = await dialog.boundingBox()
    assert(box && box.x >= 0 && box.x + box.width <= 391, `the dialog does not fit: ${JSON.stringify(box)}`)
    const plus = dialog.locator(tid('qty-plus')).first()
    await plus.scrollIntoViewIfNeeded()
    const plusBox = await plus.boundingBox()
    assert(plusBox && plusBox.x + plusBox.width <= 391, 'the + button is off screen')
    const place = page.locator(tid('place-order'))
    await place.scrollIntoViewIfNeeded()
    const placeBox = await place.boundingBox()
    assert(placeBox && placeBox.x >= 0 && placeBox.x + placeBox.width <= 391, 'the order button is off screen')
    const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
    assert(overflow <= 0, `the page is ${overflow}px wider than the screen`)
    await shot('mobile-recharge')
  })
} catch (e) {
  failed++
  console.log(`FAIL run aborted: ${e instanceof Error ? e.message : e}`)
  await shot('aborted')
} finally {
  await context.close().catch(() => {})
  rmSync(userDataDir, { recursive: true, force: true })
}

console.log(`screenshots: ${SCREENSHOT_DIR}`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed > 0 ? 1 : 0)
