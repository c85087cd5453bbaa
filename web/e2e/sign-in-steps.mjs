// Browser steps for sign-in providers and the sessions page: an OpenID Connect sign-in
// against the sandbox provider (from the login page's button; the provider's page lists its
// test users, signed in with a click or at once with login_hint), and signing another
// session out from the account page, which ends that session's next request.
// flow.mjs runs them with its helpers (`h`); run alone, `node web/e2e/sign-in-steps.mjs`
// uses small helpers of its own (BASE_URL as in flow.mjs; axe in the current theme only).

import { chromium } from 'playwright-core'
import { execFileSync } from 'node:child_process'
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
