// Browser steps for My orders and for being told to wait: an unpaid order whose QR code was
// shown can be paid again (the same QR code, in the payment dialog) and closed, and then says
// why it closed; a 429 says when to try again. flow.mjs runs them, signed in as its zh-CN user,
// with its own helpers (`h`): step, shot, axeBoth, api, eventually, allProducts, ...

/** Run after the user has bought something; leaves no unpaid order, and redemption limited. */
export async function ordersAndWaitSteps(h) {
  const { step, shot, axeBoth, tid, assert, api, eventually, allProducts, RUN } = h

  await step('My orders: an unpaid order whose QR code was shown offers pay (the same QR) and close; a closed one says why', async () => {
    const page = h.page()
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    const productId = (await allProducts()).find((p) => p.stock > 0)?.id
    assert(productId, 'no product in stock')
    const placed = await api('/api/orders', {
      method: 'POST',
      token,
      headers: { 'Idempotency-Key': `e2e-${RUN}-unpaid-${Math.random().toString(36).slice(2)}` },
      body: { items: [{ product_id: productId, quantity: 1 }] },
    })
    assert(placed.status === 201, `place order answered ${placed.status} ${JSON.stringify(placed.json)}`)
    const orderId = placed.json.id
    const first = await api(`/api/orders/${orderId}/pay`, { method: 'POST', token })
    assert(first.status === 200, `pay answered ${first.status}`)
    await page.locator(tid('nav-orders')).click()
    await page.locator(tid('orders-page')).waitFor()
    const card = page.locator(`${tid('order-item')}[data-order-id="${orderId}"]`)
    await card.waitFor({ timeout: 10_000 })
    assert((await card.getAttribute('data-status')) === 'awaiting_confirmation', `the order is ${await card.getAttribute('data-status')}`)
    const status = (await card.locator(tid('order-status')).innerText()).trim()
    assert(status.startsWith('待支付'), `the order with a QR code shown reads "${status}"`)
    await card.locator(tid('order-close')).waitFor()
    // Pay: the payment dialog shows the QR code again, the same one.
    const again = page.waitForResponse(
      (r) => r.request().method() === 'POST' && new URL(r.url()).pathname === `/api/orders/${orderId}/pay`,
      { timeout: 30_000 },
    )
    await card.locator(tid('order-pay')).click()
    const res = await again
    assert(res.status() === 200, `POST /api/orders/{id}/pay answered ${res.status()}`)
    assert((await res.json()).qr_code === first.json.qr_code, 'paying again showed another QR code')
    await page.locator(tid('pay-qr')).waitFor()
    await shot('orders-pay-again')
    await page.keyboard.press('Escape')
    const hidden = await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden', timeout: 3_000 }).then(() => true, () => false)
    if (!hidden) {
      await page.locator(`${tid('payment-dialog')} .n-card-header__close`).click()
      await page.locator(tid('payment-dialog')).waitFor({ state: 'hidden' })
    }
    // Close: it then says the buyer closed it.
    await card.locator(tid('order-close')).click()
    const confirm = page.locator('.n-dialog')
    await confirm.waitFor()
    await confirm.locator('.n-dialog__action button').last().click()
    await eventually('the order to read closed', async () => (await card.getAttribute('data-status')) === 'closed', 15_000, 300)
    assert((await card.locator(tid('order-pay')).count()) === 0, 'a closed order still offers pay')
    const reason = (await card.locator(tid('order-close-reason')).innerText()).trim()
    assert(reason === '已由你关闭', `the closed order reads "${reason}"`)
    await shot('orders-closed-by-you')
    await axeBoth('orders-unpaid-and-closed')
  })

  await step('too many failed redemptions: the 429 says when to try again', async () => {
    const page = h.page()
    const token = await page.evaluate(() => localStorage.getItem('paychat.token'))
    let limited = false
    for (let i = 0; i < 20 && !limited; i++) {
      const res = await api('/api/exchange-codes/redeem', { method: 'POST', token, body: { code: `NOPE${RUN}${i}` } })
      if (res.status === 429) limited = true
      else assert(res.status === 400, `a bad code answered ${res.status}`)
    }
    assert(limited, 'no 429 after 20 failed redemptions')
    await page.locator(tid('nav-redeem')).click()
    const dialog = page.locator(tid('redeem-dialog'))
    await dialog.waitFor()
    await dialog.locator(`${tid('redeem-input')} input`).fill(`NOPE${RUN}`.toUpperCase())
    await dialog.locator(tid('redeem-submit')).click()
    const text = (await dialog.locator(tid('redeem-error')).innerText()).trim()
    assert(/^操作太频繁，请在 \d+ (秒|分钟)后重试$/.test(text), `the 429 reads "${text}"`)
    console.log(`     ${text}`)
    await shot('redeem-rate-limited')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
  })
}
