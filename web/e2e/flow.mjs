#!/usr/bin/env node
// End-to-end run of the web app against the whole platform, in Debian's Chromium:
// the landing page as a visitor (desktop and phone) → register → verify from the mail sink → log
// in → no chat times → recharge → pay (sandbox Alipay) → code under My codes → redeem → streamed
// answer → history after reload → a product beyond the fourth behind "more" → a closed order's
// payment dialog without its QR code → renaming a conversation, Stop, error texts, "load more"
// lists → copying code and answers, regenerating, editing and resending, searching and exporting
// a conversation (features.mjs) → the account page: profile, chat times history, password change
// (features.mjs) → signing in with the sandbox OpenID Connect provider and signing another
// device out from the account page (sign-in-steps.mjs) → an unpaid order paid again and closed
// from My orders, saying why it closed, and
// a 429 saying when to try again (orders-steps.mjs) → phone layout; then an English browser:
// its first screen, and the admin pages (products on and off sale, the form's field errors,
// orders by email; the upstream keys and models page, and the dashboard, users and audit log
// pages at desktop and phone size: llm-keys-steps.mjs). axe-core checks every page visited in
// light and in dark (no serious or
// critical violation). One line per step, then "N passed, M failed"; exits 1 on any failure.
//
// Env: BASE_URL (http://127.0.0.1:18080), MAIL_URL (http://127.0.0.1:8025),
// SCREENSHOT_DIR (web/test-results/screenshots), ADMIN_EMAIL / ADMIN_PASSWORD (an address the
// services treat as admin; used to create products: one when none is on sale, and enough that
// a new one is listed beyond the fourth),
// ALIPAY_SIM_URL (http://127.0.0.1:8092, fallback payer), CHROMIUM (path to the browser).

import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
import { createRequire } from 'node:module'
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chatAndAccountSteps, landingSteps } from './features.mjs'
import { llmKeysSteps } from './llm-keys-steps.mjs'
import { consoleSteps } from './console-steps.mjs'
import { ordersAndWaitSteps } from './orders-steps.mjs'
import { signInProviderSteps } from './sign-in-steps.mjs'

const here = dirname(fileURLToPath(import.meta.url))
const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/$/, '')
const MAIL_URL = (process.env.MAIL_URL || 'http://127.0.0.1:8025').replace(/\/$/, '')
const ALIPAY_SIM_URL = (process.env.ALIPAY_SIM_URL || 'http://127.0.0.1:8092').replace(/\/$/, '')
const SCREENSHOT_DIR = resolve(process.env.SCREENSHOT_DIR || join(here, '..', 'test-results', 'screenshots'))
const ADMIN_EMAIL = process.env.ADMIN_EMAIL || ''
const ADMIN_PASSWORD = process.env.ADMIN_PASSWORD || ''
const PAYMENT_TIMEOUT_MS = Number(process.env.PAYMENT_TIMEOUT_MS || 90_000)

const AXE_PATH = createRequire(import.meta.url).resolve('axe-core/axe.min.js')

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

async function shot(name, p = page) {
  if (!p) return
  shotNo++
  const file = join(SCREENSHOT_DIR, `${String(shotNo).padStart(2, '0')}-${name}.png`)
  try {
    await p.screenshot({ path: file, fullPage: false })
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

/** Errors thrown in the pages (uncaught exceptions), newest last. */
const pageErrors = []

/** Switches the app's theme the way another tab would (localStorage plus its storage event). */
async function setTheme(p, theme) {
  await p.evaluate((v) => {
    localStorage.setItem('paychat.theme', v)
    window.dispatchEvent(new StorageEvent('storage', { key: 'paychat.theme', newValue: v }))
  }, theme)
  await p.waitForFunction((dark) => document.documentElement.classList.contains('dark') === dark, theme === 'dark')
  await sleep(450) // colour transitions settle before colours are measured
}

/** axe-core on the page as shown, in light and then dark: no serious or critical violation. */
const axeChecked = []
async function axeBoth(label, p = page) {
  const problems = []
  const before = await p.evaluate(() => localStorage.getItem('paychat.theme'))
  // A toast fading in or out is measured half transparent; the page is checked once they are gone.
  await p.waitForFunction(() => document.querySelectorAll('.n-message').length === 0, null, { timeout: 10_000 })
  for (const theme of ['light', 'dark']) {
    await setTheme(p, theme)
    if (!(await p.evaluate(() => typeof window.axe === 'object'))) await p.addScriptTag({ path: AXE_PATH })
    const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))
    for (const v of result.violations) {
      if (v.impact !== 'serious' && v.impact !== 'critical') continue
      const where = v.nodes.slice(0, 3).map((n) => n.target.join(' ')).join(', ')
      problems.push(`${theme}: ${v.impact} ${v.id} at ${where} (${v.nodes[0]?.any[0]?.message ?? v.help})`)
    }
    if (theme === 'dark') await shot(`${label}-dark`, p)
  }
  await setTheme(p, before === 'dark' ? 'dark' : 'light')
  axeChecked.push(label)
  assert(problems.length === 0, `axe found on ${label}: ${problems.join(' | ')}`)
}

/** Contrast ratio (WCAG) of an element's text against the first opaque background behind it. */
async function contrastOf(locator) {
  return locator.evaluate((el) => {
    const rgb = (c) => (c.match(/[\d.]+/g) || []).map(Number)
    const lum = ([r, g, b]) => {
      const f = (v) => ((v /= 255) <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4)
      return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b)
    }
    const fg = rgb(getComputedStyle(el).color)
    let bg = [255, 255, 255]
    for (let n = el; n; n = n.parentElement) {
      const c = rgb(getComputedStyle(n).backgroundColor)
      if (c.length >= 3 && (c.length < 4 || c[3] > 0.9)) {
        bg = c
        break
      }
    }
    const [a, b] = [lum(fg), lum(bg)].sort((x, y) => y - x)
    return (a + 0.05) / (b + 0.05)
  })
}

/** The chat input's placeholder fits on its one line, unclipped. */
async function placeholderFits(p = page) {
  return p.evaluate(() => {
    const ph = document.querySelector('[data-testid="chat-input"] .n-input__placeholder')
    const box = document.querySelector('[data-testid="chat-input"] textarea')
    if (!ph || !box) return 'no placeholder'
    const range = document.createRange()
    range.selectNodeContents(ph)
    const text = range.getBoundingClientRect()
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top))).size
    return lines <= 1 && text.width <= ph.clientWidth + 1 && text.height <= box.clientHeight + 1
      ? true
      : `${lines} lines, ${Math.round(text.width)}x${Math.round(text.height)} px in ${ph.clientWidth}x${box.clientHeight}`
  })
}

const chatTimesOf = async (p) => Number((await p.locator(tid('header-times')).innerText()).replace(/\D/g, ''))

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
  page.on('pageerror', (e) => {
    pageErrors.push(e.message)
    console.log(`     page error: ${e.message}`)
  })

  await step('a product is on sale', async () => {
    const how = await ensureProduct()
    console.log(`     product: ${how}`)
  })

  // Helpers for the steps kept in features.mjs (landing page, chat tools, account page).
  const helpers = { step, shot, axeBoth, tid, assert, eventually, api, sleep, page: () => page, BASE_URL, RUN, USER_EMAIL, USER_PASSWORD }
  await landingSteps(helpers)

  await step('register a new user', async () => {
    await page.goto(`${BASE_URL}/register`)
    await page.locator(`${tid('register-email')} input`).fill(USER_EMAIL)
    await page.locator(`${tid('register-password')} input`).fill(USER_PASSWORD)
    await page.locator(`${tid('register-nickname')} input`).fill(`e2e ${RUN}`)
    await shot('register')
    await axeBoth('register')
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
    await axeBoth('verify-success')
  })

  await step('log in', async () => {
    await page.goto(`${BASE_URL}/login`)
    await page.locator(`${tid('login-email')} input`).fill(USER_EMAIL)
    await page.locator(`${tid('login-password')} input`).fill(USER_PASSWORD)
    await shot('login')
    await axeBoth('login')
    await page.locator(tid('login-submit')).click()
    await page.waitForURL(/\/chat/)
    await page.locator(tid('user-times')).waitFor()
    await shot('chat-empty')
    await axeBoth('chat-empty')
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
    await axeBoth('recharge-dialog')

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
    await axeBoth('payment-dialog')
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
    await axeBoth('my-codes')
  })

  await step('redeem the code; chat times go up', async () => {
    timesBeforeRedeem = Number((await page.locator(tid('header-times')).innerText()).replace(/\D/g, ''))
    await page.locator(`${tid('code-item')}[data-used="0"]`).first().locator(tid('code-redeem')).click()
    const dialog = page.locator(tid('redeem-dialog'))
    await dialog.waitFor()
    const input = dialog.locator(`${tid('redeem-input')} input`)
    assert((await input.inputValue()).trim() === redeemedCode, 'the redeem dialog was not filled with the code')
    await shot('redeem-dialog')
    await axeBoth('redeem-dialog')
    await dialog.locator(tid('redeem-submit')).click()
    await dialog.waitFor({ state: 'hidden' })
    timesAfterRedeem = await eventually('more chat times', async () => {
      const n = Number((await page.locator(tid('header-times')).innerText()).replace(/\D/g, ''))
      return n > timesBeforeRedeem ? n : null
    }, 10_000, 200)
    // My codes is read again: the redeemed code shows as used.
    const item = page.locator(tid('code-item')).filter({ hasText: redeemedCode }).first()
    await eventually('the redeemed code to show as used', async () => (await item.getAttribute('data-used')) === '1', 10_000, 200)
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
    await axeBoth('chat-history')
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
    await axeBoth('payment-closed')
    await page.keyboard.press('Escape')
    const hidden = await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)
    if (!hidden) {
      await page.locator(`${tid('payment-dialog')} .n-card-header__close`).click()
      await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden' })
    }
  })

  await step('rename a conversation: the input has focus, Enter saves, Esc and clicking away cancel', async () => {
    await page.goto(roomUrl)
    await page.locator(tid('message-assistant')).last().waitFor()
    const errorsBefore = pageErrors.length
    const room = page.locator(`${tid('room-item')}.active`)
    const rename = async () => {
      await room.hover()
      await room.locator(tid('room-rename')).click()
      const input = room.locator(`${tid('room-rename-input')} input`)
      await input.waitFor()
      await eventually('the rename input to have focus', () => input.evaluate((el) => el === document.activeElement), 3_000, 100)
      return input
    }
    let input = await rename()
    await shot('rename-input')
    await input.fill(`改名 ${RUN}`)
    await page.keyboard.press('Enter')
    await room.locator(tid('room-rename-input')).waitFor({ state: 'detached' })
    await eventually('the new title', async () => (await room.innerText()).includes(`改名 ${RUN}`), 5_000, 200)
    await eventually('the header to show the new title', async () => (await page.locator(tid('room-title')).innerText()).includes(`改名 ${RUN}`), 5_000, 200)

    input = await rename()
    await input.fill('不要这个')
    await page.keyboard.press('Escape')
    await room.locator(tid('room-rename-input')).waitFor({ state: 'detached', timeout: 3_000 })
    input = await rename()
    await input.fill('也不要这个')
    await page.locator(tid('messages')).click({ position: { x: 5, y: 5 } })
    await room.locator(tid('room-rename-input')).waitFor({ state: 'detached', timeout: 3_000 })
    await sleep(500)
    const title = await room.innerText()
    assert(title.includes(`改名 ${RUN}`) && !title.includes('不要'), `Esc or clicking away changed the title to "${title}"`)
    const rooms = await api('/api/chat/rooms', { token: await page.evaluate(() => localStorage.getItem('paychat.token')) })
    assert(items(rooms.json).some((r) => r.title === `改名 ${RUN}`), 'the server does not have the new title')
    assert(pageErrors.length === errorsBefore, `page errors while renaming: ${pageErrors.slice(errorsBefore).join('; ')}`)
    await shot('renamed')
  })

  await step('Stop: the header shows the chat times the server counts', async () => {
    await page.locator(tid('new-chat')).click()
    const before = await chatTimesOf(page)
    assert(before > 0, `no chat times left to ask with (${before})`)
    await page.locator(`${tid('chat-input')} textarea`).fill('Please write a long, detailed story about a lighthouse keeper, at least twenty sentences. 请写长一点。')
    await page.locator(tid('chat-send')).click()
    const last = page.locator(tid('message-assistant')).last()
    await eventually('some of the answer', async () => (await last.locator(tid('answer-content')).innerText()).trim().length > 0, 30_000, 50)
    await page.locator(tid('chat-stop')).click({ timeout: 5_000 })
    await eventually('the answer to stop', async () => (await last.getAttribute('data-status')) !== 'streaming', 10_000, 100)
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    let server = -1
    await eventually('the header to match the server', async () => {
      server = (await api('/api/users/me', { token })).json.can_conversation_times
      return (await chatTimesOf(page)) === server
    }, 10_000, 500)
    assert(server === before - 1, `the server counts ${server} chat times after one stopped answer, from ${before}`)
    console.log(`     chat times ${before} → ${server} after Stop (status ${await last.getAttribute('data-status')})`)
    await shot('stopped')
  })

  await step('an unknown code reads only in Chinese, without the server\'s English', async () => {
    await page.locator(tid('nav-redeem')).click()
    const dialog = page.locator(tid('redeem-dialog'))
    await dialog.waitFor()
    await dialog.locator(`${tid('redeem-input')} input`).fill(`NOPE${RUN}`.toUpperCase())
    await dialog.locator(tid('redeem-submit')).click()
    const text = (await dialog.locator(tid('redeem-error')).innerText()).trim()
    assert(text === '验证码或兑换码无效', `the error reads "${text}"`)
    await shot('redeem-unknown-zh')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
  })

  await step('My orders and My codes show 20, then the rest behind "load more"', async () => {
    const admin = await adminToken()
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    const created = await api('/api/admin/products', {
      method: 'POST',
      token: admin,
      body: { name: `E2E 批量 ${RUN}`, description: '5 次对话 / 5 chats', price: '0.01', reward_use_times: 5, stock: 60, expires_days: 30 },
    })
    assert(created.status === 201, `create product answered ${created.status}`)
    const productId = created.json.id
    const place = async (quantity) => {
      const res = await api('/api/orders', {
        method: 'POST',
        token,
        headers: { 'Idempotency-Key': `e2e-${RUN}-${Math.random().toString(36).slice(2)}` },
        body: { items: [{ product_id: productId, quantity }] },
      })
      assert(res.status === 201, `place order answered ${res.status} ${JSON.stringify(res.json)}`)
      return res.json.id
    }
    // 21 codes in one paid order...
    const paidId = await place(21)
    const pay = await api(`/api/orders/${paidId}/pay`, { method: 'POST', token })
    assert(pay.status === 200, `pay answered ${pay.status}`)
    const sim = await fetch(`${ALIPAY_SIM_URL}/sim/pay/${encodeURIComponent(pay.json.out_trade_no)}`, { method: 'POST' })
    assert(sim.ok, `sim pay answered ${sim.status}`)
    await eventually('the bulk order to complete', async () => (await api(`/api/orders/${paidId}`, { token })).json?.status === 'completed', PAYMENT_TIMEOUT_MS, 1_000)
    // ...and 20 more orders, closed.
    for (let i = 0; i < 20; i++) {
      const id = await place(1)
      const closed = await api(`/api/orders/${id}/close`, { method: 'POST', token })
      assert(closed.status === 200, `close answered ${closed.status}`)
    }
    const total = async (path) => {
      let n = 0
      let cursor = null
      do {
        const res = await api(`${path}?limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`, { token })
        n += items(res.json).length
        cursor = res.json?.next_cursor
      } while (cursor)
      return n
    }
    for (const [nav, pageId, item, more, path] of [
      ['nav-orders', 'orders-page', 'order-item', 'orders-more', '/api/orders'],
      ['nav-codes', 'codes-page', 'code-item', 'codes-more', '/api/exchange-codes'],
    ]) {
      const expected = await total(path)
      assert(expected > 20, `${path} has only ${expected} items`)
      await page.locator(tid(nav)).click()
      await page.locator(tid(pageId)).waitFor()
      await eventually(`20 ${item}s`, async () => (await page.locator(tid(item)).count()) === 20, 10_000, 200)
      const button = page.locator(tid(more))
      await button.scrollIntoViewIfNeeded()
      await shot(`${pageId}-first-page`)
      for (let clicks = 0; (await button.count()) > 0 && clicks < 10; clicks++) {
        await button.click()
        await sleep(300)
      }
      await eventually(`all ${expected} ${item}s`, async () => (await page.locator(tid(item)).count()) === expected, 10_000, 200)
      assert((await button.count()) === 0, `"load more" is still offered on ${pageId} with everything shown`)
      console.log(`     ${pageId}: 20, then ${expected} after "load more"`)
    }
    await axeBoth('my-codes-all')
  })

  await chatAndAccountSteps(helpers)

  await signInProviderSteps(helpers)

  await ordersAndWaitSteps({ step, shot, axeBoth, tid, assert, api, eventually, allProducts, RUN, page: () => page })

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
    await axeBoth('phone-chat')
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
    await axeBoth('phone-recharge')
  })

  await step('phone (zh): the placeholder fits, rename and delete are 44 px targets, menu buttons have labels', async () => {
    await page.goto(roomUrl)
    await page.locator(tid('message-assistant')).last().waitFor()
    const fits = await placeholderFits()
    assert(fits === true, `the chat placeholder is clipped: ${fits}`)
    for (const id of ['rooms-toggle', 'nav-menu']) {
      const label = await page.locator(tid(id)).getAttribute('aria-label')
      assert(label && label.trim(), `${id} has no aria-label`)
    }
    await page.locator(tid('rooms-toggle')).click()
    const room = page.locator(tid('room-item')).first()
    await room.waitFor()
    for (const id of ['room-rename', 'room-delete']) {
      const box = await room.locator(tid(id)).boundingBox()
      assert(box && box.width >= 44 && box.height >= 44, `${id} is ${box ? `${Math.round(box.width)}x${Math.round(box.height)}` : 'not shown'}, not 44x44`)
    }
    await shot('phone-rooms-targets')
    await axeBoth('phone-rooms-drawer')
    await page.keyboard.press('Escape')
    await room.waitFor({ state: 'hidden' }).catch(() => {})
  })

  await step('phone (zh): "open the payment page" is readable in dark', async () => {
    await page.locator(tid('nav-recharge')).click()
    const dialog = page.locator(tid('recharge-dialog'))
    await dialog.waitFor()
    await dialog.locator('[data-product-card]').first().waitFor()
    const plus = dialog.locator(`${tid('qty-plus')}:not([disabled])`).first()
    await plus.scrollIntoViewIfNeeded()
    await plus.click()
    const payResponse = page.waitForResponse(
      (r) => r.request().method() === 'POST' && /\/api\/orders\/[^/]+\/pay$/.test(new URL(r.url()).pathname),
      { timeout: 30_000 },
    )
    await page.locator(tid('place-order')).click()
    const orderId = (await (await payResponse).json()).order_id
    const link = page.locator(tid('pay-link'))
    await link.waitFor()
    await link.scrollIntoViewIfNeeded()
    await setTheme(page, 'dark')
    const ratio = await contrastOf(link)
    await shot('phone-payment-dark')
    await setTheme(page, 'light')
    const light = await contrastOf(link)
    console.log(`     payment link contrast: dark ${ratio.toFixed(2)}, light ${light.toFixed(2)}`)
    assert(ratio >= 4.5 && light >= 4.5, `the payment link's contrast is ${ratio.toFixed(2)} (dark), ${light.toFixed(2)} (light)`)
    await axeBoth('phone-payment')
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    await api(`/api/orders/${orderId}/close`, { method: 'POST', token })
    await page.keyboard.press('Escape')
  })

  // ---------- an English browser: first screen, admin pages ----------
  let enBrowser
  let en
  await step('English browser: the first screen is in English', async () => {
    enBrowser = await chromium.launch({ executablePath: chromiumPath(), args: ['--no-sandbox', '--disable-gpu', '--no-first-run'] })
    const enContext = await enBrowser.newContext({ locale: 'en-US', viewport: { width: 1280, height: 820 } })
    enContext.setDefaultTimeout(15_000)
    en = await enContext.newPage()
    en.on('pageerror', (e) => {
      pageErrors.push(e.message)
      console.log(`     page error (en): ${e.message}`)
    })
    await en.goto(`${BASE_URL}/login`)
    await en.locator(tid('login-submit')).waitFor()
    const lang = await en.evaluate(() => document.documentElement.lang)
    const button = (await en.locator(tid('login-submit')).innerText()).trim()
    assert(lang === 'en', `<html lang> is ${lang}`)
    assert(/log ?in|sign ?in/i.test(button), `the login button reads "${button}"`)
    await shot('en-login', en)
    await axeBoth('en-login', en)
  })

  await step('admin (en): every product listed, the form shows server problems at the field, flash sale', async () => {
    await adminToken() // registers and verifies the admin address when needed
    await en.locator(`${tid('login-email')} input`).fill(ADMIN_EMAIL)
    await en.locator(`${tid('login-password')} input`).fill(ADMIN_PASSWORD)
    await en.locator(tid('login-submit')).click()
    await en.waitForURL(/\/chat/)
    await en.goto(`${BASE_URL}/admin/products`)
    await en.locator(tid('admin-product')).first().waitFor()
    await axeBoth('admin-products', en)
    await en.locator(tid('admin-new-product')).click()
    const form = en.locator(tid('product-form'))
    await form.waitFor()
    await form.locator(`${tid('pf-name')} input`).fill(`E2E flash ${RUN}`)
    await form.locator(`${tid('pf-description')} textarea`).fill('x'.repeat(70))
    await form.locator(`${tid('pf-price')} input`).fill('0.01')
    await form.locator(tid('pf-seckill')).click()
    await form.locator(tid('pf-save')).click()
    const feedback = form.locator(`${tid('pf-description-item')} .n-form-item-feedback`)
    await feedback.waitFor()
    const text = (await feedback.innerText()).trim()
    assert(text === 'A description has at most 64 characters', `the description field reads "${text}"`)
    assert((await en.locator('.n-message').filter({ hasText: /invalid request/i }).count()) === 0, 'the error was shown as a toast')
    await sleep(400) // the feedback's fade-in, for the screenshot
    await shot('admin-form-field-error', en)
    await axeBoth('admin-product-form', en)
    await form.locator(`${tid('pf-description')} textarea`).fill('Flash sale pack')
    await form.locator(tid('pf-save')).click()
    await form.waitFor({ state: 'hidden' })
    const card = en.locator(tid('admin-product')).filter({ hasText: `E2E flash ${RUN}` })
    await card.waitFor()
    await card.locator(tid('admin-seckill')).waitFor()
  })

  await step('admin (en): taking a product off sale asks first, keeps it listed, and it can go back on sale', async () => {
    const name = `E2E flash ${RUN}`
    const card = en.locator(tid('admin-product')).filter({ hasText: name })
    const id = await card.getAttribute('data-product-id')
    await card.locator(tid('admin-take-off')).click()
    const confirm = en.locator('.n-dialog')
    await confirm.waitFor()
    assert((await confirm.innerText()).includes(name), 'the confirmation does not name the product')
    await shot('admin-take-off-confirm', en)
    await confirm.locator('.n-dialog__action button').last().click()
    await eventually('the product to show off sale', async () => (await card.getAttribute('data-enabled')) === '0', 10_000, 200)
    assert((await card.locator(tid('admin-sale-status')).innerText()).trim() === 'Off sale', 'no "Off sale" tag')
    const onSale = await allProducts()
    assert(!onSale.some((p) => p.id === id), 'the product is still offered to buyers')
    await en.locator(tid('filter-off')).click()
    await card.waitFor()
    assert((await en.locator(`${tid('admin-product')}[data-enabled="1"]`).count()) === 0, 'the off-sale filter shows products on sale')
    await shot('admin-off-sale', en)
    await en.locator(tid('filter-on')).click()
    await card.waitFor({ state: 'detached' })
    await en.locator(tid('filter-all')).click()
    await card.locator(tid('admin-put-on')).click()
    await eventually('the product back on sale', async () => (await card.getAttribute('data-enabled')) === '1', 10_000, 200)
    assert((await allProducts()).some((p) => p.id === id), 'the product is not offered again')
  })

  await step('admin (en): orders by the buyer\'s email, 20 then "load more"; a bad filter reads in English', async () => {
    await en.goto(`${BASE_URL}/admin/orders`)
    await en.locator(tid('admin-orders-page')).waitFor()
    await en.locator(`${tid('admin-orders-who')} input`).fill(USER_EMAIL.toUpperCase())
    await en.locator(tid('admin-orders-search')).click()
    await eventually('20 orders of the user', async () => (await en.locator(tid('order-item')).count()) === 20, 10_000, 200)
    const more = en.locator(tid('admin-orders-more'))
    await more.scrollIntoViewIfNeeded()
    await shot('admin-orders-by-email', en)
    await more.click()
    await eventually('more orders', async () => (await en.locator(tid('order-item')).count()) > 20, 10_000, 200)
    await axeBoth('admin-orders', en)
    await en.locator(`${tid('admin-orders-who')} input`).fill('not-a-number')
    await en.locator(tid('admin-orders-search')).click()
    const toast = en.locator('.n-message').filter({ hasText: 'Invalid request' })
    await toast.waitFor()
    const text = (await toast.innerText()).trim()
    assert(text === 'Invalid request: A user ID is a number', `the filter error reads "${text}"`)
    await shot('admin-orders-bad-filter', en)
  })

  await consoleSteps({ step, shot, axeBoth, tid, assert, eventually, api, BASE_URL, RUN, adminToken, allProducts, page: () => en })

  await llmKeysSteps({ step, shot, axeBoth, tid, assert, eventually, api, BASE_URL, RUN, adminToken, page: () => en })

  await step('phone (en): the chat placeholder fits and the page passes axe', async () => {
    await en.setViewportSize({ width: 390, height: 844 })
    await en.goto(`${BASE_URL}/chat`)
    await en.locator(tid('chat-input')).waitFor()
    const fits = await placeholderFits(en)
    assert(fits === true, `the chat placeholder is clipped: ${fits}`)
    await shot('en-phone-chat', en)
    await axeBoth('en-phone-chat', en)
    await enBrowser.close().catch(() => {})
    console.log(`     axe checked (light and dark): ${axeChecked.join(', ')}`)
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
