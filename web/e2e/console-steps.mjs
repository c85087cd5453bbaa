// Browser steps for the operator console's Payments and Codes pages, in the English admin
// browser: an order paid without a notify is reconciled now, refunded once with a reason (the
// sandbox Alipay sees one refund request) and its notify log shows the refund's notify with the
// signature withheld; a product's codes are listed by state, one is disabled with a reason and
// the unsold ones download as CSV. Both pages at desktop and phone size, with axe in light and
// dark. flow.mjs runs them with its own helpers (`h`), the admin signed in on `h.page()`.
import { readFile } from 'node:fs/promises'

/** The admin's own order, paid at the sandbox Alipay with its notify dropped: { orderId, outTradeNo, sandbox }. */
async function paidWithoutNotify(h, token, productId) {
  const { api, assert, RUN } = h
  const place = () =>
    api('/api/orders', {
      method: 'POST',
      token,
      headers: { 'Idempotency-Key': `e2e-${RUN}-console-${Math.random().toString(36).slice(2)}` },
      body: { items: [{ product_id: productId, quantity: 1 }] },
    })
  let placed = await place()
  if (placed.status === 409 && placed.json?.error?.code === 'unpaid_order_exists') {
    await api(`/api/orders/${placed.json.error.order_id}/close`, { method: 'POST', token })
    placed = await place()
  }
  assert(placed.status === 201, `place order answered ${placed.status} ${JSON.stringify(placed.json)}`)
  const orderId = placed.json.id
  const pay = await api(`/api/orders/${orderId}/pay`, { method: 'POST', token })
  assert(pay.status === 200, `pay answered ${pay.status}`)
  const sandbox = new URL(pay.json.qr_code).origin
  const paid = await fetch(`${sandbox}/sim/pay/${pay.json.out_trade_no}?notify=drop`, { method: 'POST' })
  assert(paid.ok, `the sandbox Alipay answered ${paid.status} to the payment`)
  return { orderId, outTradeNo: pay.json.out_trade_no, sandbox }
}

async function sandboxTrade(sandbox, outTradeNo) {
  const res = await fetch(`${sandbox}/sim/trades/${outTradeNo}`)
  return res.json()
}

/** Toasts fade in and out over the page; axe and screenshots wait for them to go. */
async function noToasts(p) {
  await p.locator('.n-message').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {})
}

/** The page at phone size: a screenshot and axe, then back to the desktop size. */
async function onPhone(h, p, name) {
  const { shot, axeBoth } = h
  await noToasts(p)
  const desktop = p.viewportSize()
  await p.setViewportSize({ width: 390, height: 844 })
  await p.waitForTimeout(300)
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  h.assert(overflow <= 1, `${name} is ${overflow}px wider than the phone`)
  await shot(`${name}-phone`, p)
  await axeBoth(`${name}-phone`, p)
  if (desktop) await p.setViewportSize(desktop)
}

export async function consoleSteps(h) {
  const { step, shot, axeBoth, tid, assert, eventually, BASE_URL, adminToken, allProducts } = h
  let productId = null

  await step('admin (en): payments — reconcile now completes an order paid without a notify; one refund with a reason; its notify log', async () => {
    const p = h.page()
    const token = await adminToken()
    productId = (await allProducts()).find((x) => x.stock > 1)?.id
    assert(productId, 'no product in stock')
    const { orderId, outTradeNo, sandbox } = await paidWithoutNotify(h, token, productId)

    await p.goto(`${BASE_URL}/admin/payments?order=${orderId}`)
    const order = p.locator(tid('payments-order'))
    await order.waitFor()
    assert((await order.getAttribute('data-status')) === 'awaiting_confirmation', `the order is ${await order.getAttribute('data-status')}`)
    await p.locator(tid('payments-reconcile')).click()
    await eventually('the order to read completed', async () => (await order.getAttribute('data-status')) === 'completed', 20_000, 300)
    const finding = (await p.locator(tid('payments-finding')).first().innerText()).trim()
    assert(finding.includes('TRADE_SUCCESS') && finding.includes('completed'), `reconcile says "${finding}"`)
    await noToasts(p)
    await shot('admin-payments-reconciled', p)
    await axeBoth('admin-payments', p)

    await p.locator(tid('payments-refund')).click()
    const confirm = p.locator(tid('payments-refund-confirm'))
    await confirm.waitFor()
    assert(await p.locator(tid('payments-refund-submit')).isDisabled(), 'refund can be sent without a reason')
    await p.locator(`${tid('payments-refund-reason')} input`).fill('E2E: the buyer asked')
    await shot('admin-payments-refund-confirm', p)
    // Clicked twice: the second click finds it refunding or refunded, never a second refund.
    await p.locator(tid('payments-refund-submit')).click()
    await p.locator(tid('payments-refund-submit')).click({ timeout: 1_000 }).catch(() => {})
    await eventually('the order to read refunded', async () => (await order.getAttribute('data-status')) === 'refunded', 20_000, 300)
    const trade = await sandboxTrade(sandbox, outTradeNo)
    assert(trade.refund_requests === 1, `the sandbox Alipay saw ${trade.refund_requests} refund requests`)
    assert(trade.trade_status === 'TRADE_CLOSED', `the trade is ${trade.trade_status}`)

    // The refund's notify (TRADE_CLOSED) arrives at the gateway and shows in the log.
    await eventually('the refund notify in the log', async () => {
      await p.locator(tid('payments-order-open')).click()
      await p.locator(tid('payments-order')).waitFor()
      return (await p.locator(tid('payments-notify')).count()) > 0
    }, 30_000, 1_000)
    await p.locator(`${tid('payments-notify')} .n-collapse-item__header`).first().click()
    const fields = p.locator(tid('payments-notify-fields')).first()
    await fields.waitFor()
    const text = await fields.innerText()
    assert(text.includes('[withheld]'), 'the signature is shown')
    assert(text.includes(outTradeNo), 'the notify fields lack the trade number')
    await p.waitForTimeout(400) // the collapse's fade-in, for the screenshot
    await shot('admin-payments-notify-log', p)
    await onPhone(h, p, 'admin-payments')
  })

  await step('admin (en): codes — a product\'s codes by state, one disabled with a reason, the unsold ones as CSV', async () => {
    const p = h.page()
    await p.goto(`${BASE_URL}/admin/codes?product=${productId}`)
    await p.locator(tid('admin-codes-page')).waitFor()
    await p.locator(tid('code-row')).first().waitFor()
    const row = p.locator(`${tid('code-row')}[data-state="unsold"]`).first()
    const codeId = await row.getAttribute('data-code-id')
    assert(codeId, 'no unsold code listed')
    await p.locator(tid(`code-disable-${codeId}`)).click()
    const dialog = p.locator(tid('code-disable-dialog'))
    await dialog.waitFor()
    await p.locator(`${tid('code-disable-reason')} input`).fill('E2E: misprinted card')
    await shot('admin-codes-disable', p)
    await p.locator(tid('code-disable-submit')).click()
    const disabled = p.locator(`${tid('code-row')}[data-code-id="${codeId}"]`)
    await eventually('the code to read disabled', async () => (await disabled.getAttribute('data-state')) === 'disabled', 10_000, 200)
    await noToasts(p)
    await shot('admin-codes', p)
    await axeBoth('admin-codes', p)

    const download = p.waitForEvent('download')
    await p.locator(tid('codes-export')).click()
    const file = await download
    const csv = await readFile(await file.path(), 'utf8')
    const lines = csv.trim().split('\n')
    assert(lines[0] === 'id,code,product_id,state,order_id,owner_id,redeemed_by,expires_at', `the CSV starts "${lines[0]}"`)
    assert(lines.length > 1, 'the CSV lists no code')
    assert(lines.slice(1).every((l) => l.split(',')[3] === 'unsold'), 'the CSV holds codes that are not unsold')
    assert(!lines.some((l) => l.startsWith(`${codeId},`)), 'the disabled code is in the CSV')
    console.log(`     ${file.suggestedFilename()}: ${lines.length - 1} unsold codes`)
    await onPhone(h, p, 'admin-codes')
  })
}
