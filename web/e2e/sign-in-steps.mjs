// Browser steps for sign-in providers and the sessions page: an OpenID Connect sign-in
// against the sandbox provider (from the login page's button; the provider's page lists its
// test users, signed in with a click or at once with login_hint), and signing another
// session out from the account page, which ends that session's next request; an avatar
// uploaded on the account page and shown in the header; and linking a provider to an existing
// password account by the link mailed to it (MAIL_URL, the sandbox mail sink).
// flow.mjs runs them with its helpers (`h`); run alone, `node web/e2e/sign-in-steps.mjs`
// uses small helpers of its own (BASE_URL as in flow.mjs; axe in the current theme only).

import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
import { deflateSync } from 'node:zlib'
import { createRequire } from 'node:module'
import { mkdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const ARGS = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync']

function chromiumPath() {
  if (process.env.CHROMIUM) return process.env.CHROMIUM
  try {
    return execFileSync('sh', ['-c', 'command -v chromium || command -v chromium-browser'], { encoding: 'utf8' }).trim()
  } catch {
    return '/usr/bin/chromium'
  }
}

/** From the login page through the sandbox provider; `pick` signs in on the provider's page. */
async function signInWithSandbox(h, page, pick) {
  const { tid, assert, BASE_URL } = h
  await page.goto(`${BASE_URL}/login`)
  const button = page.locator(tid('oauth-sandbox'))
  await button.waitFor()
  await button.click()
  // The provider's own page: a button per test user.
  await page.locator('button[name="login_hint"]').first().waitFor()
  assert(!page.url().startsWith(BASE_URL), `the sign-in button stayed on ${page.url()}`)
  await pick(page)
  await page.waitForURL((url) => url.pathname.startsWith('/chat'), { timeout: 20_000 })
  await page.locator(tid('chat-input')).waitFor()
}

/** The login_hint shortcut: the same authorize request with the address added. */
function withHint(email) {
  return async (page) => {
    const url = new URL(page.url())
    url.searchParams.set('login_hint', email)
    await page.goto(url.toString())
  }
}

const MAIL_URL = (process.env.MAIL_URL || 'http://127.0.0.1:8025').replace(/\/$/, '')

function crc32(buf) {
  let c = ~0
  for (const b of buf) {
    c ^= b
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1
  }
  return ~c >>> 0
}

/** A real w×h RGB PNG (a colour gradient), made here so the run needs no fixture file. */
function gradientPng(w, h) {
  const chunk = (type, data) => {
    const len = Buffer.alloc(4)
    len.writeUInt32BE(data.length)
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(crc32(body))
    return Buffer.concat([len, body, crc])
  }
  const ihdr = Buffer.alloc(13)
  ihdr.writeUInt32BE(w, 0)
  ihdr.writeUInt32BE(h, 4)
  ihdr.set([8, 2, 0, 0, 0], 8)
  const rows = []
  for (let y = 0; y < h; y++) {
    const row = Buffer.alloc(1 + w * 3)
    for (let x = 0; x < w; x++) row.set([(x * 255) / w, (y * 255) / h, 160], 1 + x * 3)
    rows.push(row)
  }
  return Buffer.concat([
    Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]),
    chunk('IHDR', ihdr),
    chunk('IDAT', deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ])
}

/** The first link in the newest mail to `to` matching `pattern`, waiting for it to arrive. */
async function mailedLink(h, to, pattern) {
  let found = null
  await h.eventually(`a mail to ${to} with ${pattern}`, async () => {
    const res = await fetch(`${MAIL_URL}/api/messages?to=${encodeURIComponent(to)}`)
    if (!res.ok) return false
    const list = await res.json()
    for (const m of Array.isArray(list) ? list : list.items ?? []) {
      const match = pattern.exec(m.text ?? '')
      if (match) return (found = match[0])
    }
    return false
  }, 15_000, 300)
  return found
}

/** A verified email-and-password account at `email`, made over HTTP. */
async function passwordAccount(h, email, password) {
  const res = await fetch(`${h.BASE_URL}/api/auth/register`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password }),
  })
  h.assert(res.status === 201, `register ${email}: ${res.status}`)
  const link = await mailedLink(h, email, /https?:\/\/\S*verify-email\?code=[\w-]+/)
  const verified = await fetch(link, { redirect: 'manual' })
  h.assert(verified.status === 302 && /verify\/success/.test(verified.headers.get('location') ?? ''), `verify ${email}: ${verified.status}`)
}

export async function signInProviderSteps(h) {
  const { step, shot, tid, assert, eventually, RUN } = h
  const browser = await chromium.launch({ executablePath: chromiumPath(), args: ARGS })
  const email = `e2e-oidc-${RUN}@sandbox.test`
  let laptop = null
  let phone = null
  try {
    const [a, b, c] = await Promise.all([browser.newContext(), browser.newContext(), browser.newContext()])
    laptop = await a.newPage()
    phone = await b.newPage()
    const other = await c.newPage()
    for (const p of [laptop, phone, other]) p.setDefaultTimeout(15_000)

    await step('OIDC sign-in (sandbox provider): the login page button, then login_hint', async () => {
      await signInWithSandbox(h, laptop, withHint(email))
      await laptop.goto(`${h.BASE_URL}/account`)
      await laptop.locator(tid('account-email')).waitFor()
      const shown = (await laptop.locator(tid('account-email')).innerText()).trim()
      assert(shown === email, `the account page shows ${shown}, not ${email}`)
      const row = laptop.locator(`${tid('method-provider')}[data-provider="sandbox"]`)
      await eventually('the sandbox provider listed as linked', async () => (await row.getAttribute('data-linked')) === 'yes', 10_000, 200)
      await shot('account-sign-in-methods', laptop)
    })

    await step('OIDC sign-in (sandbox provider): clicking a test user on the provider page', async () => {
      await signInWithSandbox(h, other, async (p) => {
        await shot('sandbox-oidc-login-page', p)
        await p.locator('button[data-email="bob@sandbox.test"]').click()
      })
      await other.context().close()
    })

    await step('sessions page: signing another device out ends its next request', async () => {
      await signInWithSandbox(h, phone, withHint(email))
      await laptop.goto(`${h.BASE_URL}/account`)
      const items = laptop.locator(tid('session-item'))
      await eventually('two sessions listed', async () => (await items.count()) === 2, 10_000, 200)
      assert((await laptop.locator(`${tid('session-item')}[data-current="yes"]`).count()) === 1, 'no session is marked as this device')
      await laptop.locator(tid('sessions')).scrollIntoViewIfNeeded()
      await shot('account-sessions', laptop)
      if (h.axeBoth) await h.axeBoth('account-sessions', laptop)
      await laptop.locator(`${tid('session-item')}[data-current="no"] ${tid('session-end')}`).click()
      await eventually('one session left', async () => (await items.count()) === 1, 10_000, 200)
      // The signed-out device's next request answers 401 and it lands on the login page.
      await phone.goto(`${h.BASE_URL}/account`)
      await phone.waitForURL((url) => url.pathname === '/login', { timeout: 15_000 })
      const token = await phone.evaluate(() => localStorage.getItem('paychat.token'))
      assert(!token, 'the signed-out device still holds its token')
      // The laptop stays signed in.
      await laptop.reload()
      await laptop.locator(tid('account-email')).waitFor()
      await shot('signed-out-device', phone)
    })

    await step('avatar: uploaded on the account page, shown there and in the header as a 256×256 WebP', async () => {
      await laptop.goto(`${h.BASE_URL}/account`)
      await laptop.locator(tid('avatar-card')).waitFor()
      const header = laptop.locator(`${tid('header-avatar')} img`)
      assert((await header.count()) === 0, 'the header shows a picture before any upload')
      await laptop.locator(tid('avatar-file')).setInputFiles({ name: 'me.png', mimeType: 'image/png', buffer: gradientPng(400, 300) })
      await header.waitFor({ timeout: 15_000 })
      const src = await header.getAttribute('src')
      assert(/\/api\/users\/\d+\/avatar\?v=1$/.test(src ?? ''), `the header's picture is ${src}`)
      assert((await laptop.locator(`${tid('account-avatar')} img`).getAttribute('src')) === src, 'the account page shows another picture')
      // Through the edge, as the browser loads it.
      const got = await laptop.evaluate(async (url) => {
        const res = await fetch(url)
        const bytes = new Uint8Array(await res.arrayBuffer())
        const bitmap = await createImageBitmap(new Blob([bytes], { type: 'image/webp' }))
        return { status: res.status, type: res.headers.get('content-type'), riff: String.fromCharCode(...bytes.slice(8, 12)), w: bitmap.width, h: bitmap.height }
      }, src)
      assert(got.status === 200 && got.type === 'image/webp' && got.riff === 'WEBP', `the avatar answered ${JSON.stringify(got)}`)
      assert(got.w === 256 && got.h === 256, `the avatar is ${got.w}×${got.h}`)
      // A page named .png that is HTML is refused, and the picture stays.
      await laptop.locator(tid('avatar-file')).setInputFiles({ name: 'evil.png', mimeType: 'image/png', buffer: Buffer.from('<!doctype html><script>alert(1)</script>') })
      await laptop.locator(tid('avatar-error')).waitFor()
      assert((await header.getAttribute('src')) === src, 'a refused upload changed the picture')
      await laptop.locator(tid('avatar-card')).scrollIntoViewIfNeeded()
      await shot('account-avatar', laptop)
      if (h.axeBoth) await h.axeBoth('account-avatar', laptop)
    })

    await step('linking a provider to an existing account by the link mailed to it', async () => {
      const mailEmail = `e2e-maillink-${RUN}@sandbox.test`
      await passwordAccount(h, mailEmail, 'e2e mail link password')
      const ctx = await browser.newContext()
      const p = await ctx.newPage()
      p.setDefaultTimeout(15_000)
      await p.goto(`${h.BASE_URL}/login`)
      await p.locator(tid('oauth-sandbox')).click()
      await p.locator('button[name="login_hint"]').first().waitFor()
      await withHint(mailEmail)(p)
      // An account has that address: nothing is merged until it is proven.
      await p.locator(tid('oauth-link-form')).waitFor()
      await p.locator(tid('oauth-link-mail')).click()
      await p.locator(tid('oauth-link-mailed')).waitFor()
      assert((await p.locator(tid('oauth-link-mailed')).innerText()).includes(mailEmail), 'the page does not say where the link went')
      assert(!(await p.evaluate(() => localStorage.getItem('paychat.token'))), 'signed in before the mailed link was followed')
      await shot('oauth-link-mailed', p)
      const link = await mailedLink(h, mailEmail, /https?:\/\/\S*\/oauth\/link\?code=[\w-]+/)
      await p.goto(link)
      await p.locator(tid('oauth-link-confirm')).click()
      await p.waitForURL((url) => url.pathname.startsWith('/chat'), { timeout: 20_000 })
      await p.goto(`${h.BASE_URL}/account`)
      await p.locator(tid('account-email')).waitFor()
      assert((await p.locator(tid('account-email')).innerText()).trim() === mailEmail, 'signed in to another account')
      const row = p.locator(`${tid('method-provider')}[data-provider="sandbox"]`)
      await eventually('the sandbox provider linked to the password account', async () => (await row.getAttribute('data-linked')) === 'yes', 10_000, 200)
      // The link works once.
      const again = await browser.newContext()
      const q = await again.newPage()
      await q.goto(link)
      await q.locator(tid('oauth-link-confirm')).click()
      await q.locator(tid('oauth-link-failed')).waitFor()
      await shot('oauth-link-used', q)
      await again.close()
      await ctx.close()
    })
  } finally {
    await browser.close().catch(() => {})
  }
}

// Run alone: node web/e2e/sign-in-steps.mjs
if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const BASE_URL = (process.env.BASE_URL || 'http://127.0.0.1:18080').replace(/\/$/, '')
  const dir = process.env.SCREENSHOT_DIR || join(fileURLToPath(new URL('.', import.meta.url)), '..', 'test-results', 'screenshots')
  mkdirSync(dir, { recursive: true })
  let failed = 0
  let stopped = false
  const h = {
    BASE_URL,
    RUN: `${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`,
    tid: (id) => `[data-testid="${id}"]`,
    assert(cond, message) {
      if (!cond) throw new Error(message)
    },
    async eventually(what, fn, timeoutMs = 20_000, everyMs = 500) {
      const end = Date.now() + timeoutMs
      while (Date.now() < end) {
        if (await fn().catch(() => false)) return
        await new Promise((r) => setTimeout(r, everyMs))
      }
      throw new Error(`timed out waiting for ${what}`)
    },
    async axeBoth(label, p) {
      await p.addScriptTag({ path: createRequire(import.meta.url).resolve('axe-core/axe.min.js') })
      const result = await p.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }))
      const bad = result.violations.filter((v) => v.impact === 'serious' || v.impact === 'critical')
      if (bad.length) throw new Error(`axe found on ${label}: ${bad.map((v) => `${v.id} at ${v.nodes[0]?.target.join(' ')}`).join(' | ')}`)
    },
    async shot(name, p) {
      await p.screenshot({ path: join(dir, `${name}.png`) }).catch(() => {})
    },
    async step(name, fn) {
      if (stopped) return void (failed++, console.log(`skip ${name}`))
      const started = Date.now()
      try {
        await fn()
        console.log(`ok   ${name} (${Date.now() - started} ms)`)
      } catch (e) {
        failed++
        stopped = true
        console.log(`FAIL ${name}: ${e instanceof Error ? e.message.split('\n')[0] : e}`)
      }
    },
  }
  await signInProviderSteps(h)
  process.exit(failed > 0 ? 1 : 0)
}
