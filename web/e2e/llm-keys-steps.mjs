// Browser steps for the operator console's Upstream keys and models page, and a walk of the
// console pages built before it (dashboard, users, audit log), in the English admin browser,
// each at desktop and phone size with axe in light and dark: a key added through the form is
// listed masked (its secret nowhere on the page), testing it makes a real call to the sandbox
// LLM, which refuses `sk-bad…` keys, so the row shows it resting with the upstream's reason;
// it is deleted after a confirmation; a model switched off leaves the chat's model list until
// it is switched on again; the audit log lists those actions. flow.mjs runs these with its own
// helpers (`h`), the admin signed in on `h.page()`.

/** Toasts fade in and out over the page; axe and screenshots wait for them to go. */
async function noToasts(p) {
  await p.locator('.n-message').first().waitFor({ state: 'detached', timeout: 10_000 }).catch(() => {})
}

/** A screenshot and axe at desktop size, then the same at phone size (nothing wider than it). */
async function bothSizes(h, p, name) {
  const { shot, axeBoth, assert } = h
  await noToasts(p)
  await shot(name, p)
  await axeBoth(name, p)
  const desktop = p.viewportSize()
  await p.setViewportSize({ width: 390, height: 844 })
  await p.waitForTimeout(300)
  const overflow = await p.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
  assert(overflow <= 1, `${name} is ${overflow}px wider than the phone`)
  await shot(`${name}-phone`, p)
  await axeBoth(`${name}-phone`, p)
  if (desktop) await p.setViewportSize(desktop)
}

export async function llmKeysSteps(h) {
  const { step, tid, assert, eventually, api, BASE_URL, RUN, adminToken } = h
  const secret = `sk-bad-e2e-${RUN}-0123456789`
  const label = `E2E refused ${RUN}`

  await step('admin (en): upstream keys — a key added is shown masked; tested, the upstream refuses it and the row says why; deleted after a confirmation', async () => {
    const p = h.page()
    await adminToken()
    await p.goto(`${BASE_URL}/admin/llm-keys`)
    await p.locator(tid('admin-llm-keys-page')).waitFor()
    await p.locator(tid('llm-key-row')).first().waitFor()

    await p.locator(`${tid('llm-key-new')} input`).fill(secret)
    await p.locator(`${tid('llm-key-label')} input`).fill(label)
    await p.locator(tid('llm-key-add')).click()
    const row = p.locator(tid('llm-key-row')).filter({ hasText: label })
    await row.waitFor()
    const mask = (await row.locator(tid('llm-key-mask')).innerText()).trim()
    assert(mask === 'sk-…6789', `the key reads "${mask}"`)
    assert(!(await p.locator('body').innerText()).includes(RUN + '-0123'), 'the secret is on the page')
    assert((await p.locator(`${tid('llm-key-new')} input`).inputValue()) === '', 'the form kept the secret')

    await row.locator(tid('llm-key-test')).click()
    await row.locator(tid('llm-key-resting')).waitFor({ timeout: 20_000 })
    const why = await row.locator(tid('llm-key-resting')).innerText()
    assert(why.includes('401'), `the resting reason reads "${why}"`)
    await bothSizes(h, p, 'admin-llm-keys')

    await row.locator(tid('llm-key-delete')).click()
    await p.locator(tid('llm-key-delete-confirm')).waitFor()
    await h.shot('admin-llm-keys-delete-confirm', p)
    await p.locator(tid('llm-key-delete-confirm')).click()
    await row.waitFor({ state: 'detached' })
  })

  await step('admin (en): models — one switched off leaves the chat\'s model list, and comes back when switched on', async () => {
    const p = h.page()
    const rows = p.locator(tid('llm-model-row'))
    const count = await rows.count()
    assert(count >= 2, `${count} models listed`)
    const other = rows.nth(1)
    const name = (await other.locator('.code').innerText()).trim()
    const offered = async () => (await api('/api/chat/models')).json.items.map((m) => m.id)
    assert((await offered()).includes(name), `${name} is not offered to begin with`)
    await other.locator(tid('llm-model-enabled')).click()
    await eventually(`${name} to leave the chat's model list`, async () => !(await offered()).includes(name), 10_000, 300)
    await noToasts(p)
    await h.shot('admin-llm-models-off', p)
    await other.locator(tid('llm-model-enabled')).click()
    await eventually(`${name} to come back`, async () => (await offered()).includes(name), 10_000, 300)
  })

  await step('admin (en): the dashboard, users and audit log pages at desktop and phone size; the audit log lists the key\'s actions', async () => {
    const p = h.page()
    await p.goto(`${BASE_URL}/admin/dashboard`)
    await p.locator(tid('admin-dashboard-page')).waitFor()
    await p.waitForTimeout(800) // the charts draw after their data
    await bothSizes(h, p, 'admin-dashboard')

    await p.goto(`${BASE_URL}/admin/users`)
    await p.locator(tid('admin-users-page')).waitFor()
    await p.waitForLoadState('networkidle')
    await bothSizes(h, p, 'admin-users')

    await p.goto(`${BASE_URL}/admin/audit-log`)
    await p.locator(tid('admin-audit-page')).waitFor()
    await p.locator(`${tid('audit-action')} input`).fill('llm_key.test')
    await p.locator(tid('audit-search')).click()
    const tested = p.locator(tid('audit-row')).filter({ hasText: 'llm_key.test' })
    await tested.first().waitFor()
    assert(!(await p.locator('body').innerText()).includes(RUN + '-0123'), 'the secret is in the audit log')
    await bothSizes(h, p, 'admin-audit')
  })
}
