// Browser steps for the landing page, the chat tools (copy, regenerate, edit and resend,
// search, export) and the account page (profile, chat times history, password change).
// flow.mjs runs them with its own helpers (`h`): step, shot, axeBoth, api, eventually, ...

import { readFileSync } from 'node:fs'

/** The landing page as a visitor sees it (not signed in), on a desktop and on a phone. */
export async function landingSteps(h) {
  const { step, shot, axeBoth, tid, assert, BASE_URL } = h

  await step('landing page (visitor): what the site is, products and prices, sign-up and sign-in', async () => {
    const page = h.page()
    await page.goto(`${BASE_URL}/`)
    await page.locator(tid('landing-page')).waitFor()
    assert(new URL(page.url()).pathname === '/', `a visitor at / was sent to ${page.url()}`)
    await page.locator(tid('landing-product')).first().waitFor()
    const first = await page.locator(tid('landing-product')).first().innerText()
    assert(/¥\d+\.\d\d/.test(first), `the first product shows no price: ${first}`)
    assert((await page.locator(tid('landing-hero')).innerText()).trim().length > 10, 'the landing page does not say what the site is')
    for (const [id, path] of [['landing-register', '/register'], ['landing-login', '/login']]) {
      const href = await page.locator(tid(id)).getAttribute('href')
      assert(href === path, `${id} links to ${href}`)
    }
    await shot('landing')
    await axeBoth('landing')
  })

  await step('landing page (visitor) on a phone (390x844): fits the screen, sign-up reachable', async () => {
    const page = h.page()
    await page.setViewportSize({ width: 390, height: 844 })
    try {
      await page.goto(`${BASE_URL}/`)
      await page.locator(tid('landing-product')).first().waitFor()
      const overflow = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth)
      assert(overflow <= 0, `the landing page is ${overflow}px wider than the screen`)
      for (const id of ['landing-register', 'landing-login', 'landing-cta']) {
        const box = await page.locator(tid(id)).boundingBox()
        assert(box && box.x >= 0 && box.x + box.width <= 391, `${id} is outside the screen`)
      }
      await shot('landing-phone')
      await axeBoth('landing-phone')
      await page.locator(tid('landing-register')).click()
      await page.waitForURL(/\/register$/)
    } finally {
      await page.setViewportSize({ width: 1280, height: 820 })
    }
  })
}

/** Chat tools and the account page, for the signed-in user of the run. */
export async function chatAndAccountSteps(h) {
  const { step, shot, axeBoth, tid, assert, eventually, api, sleep, BASE_URL, RUN, USER_EMAIL, USER_PASSWORD } = h
  const page = () => h.page()
  const token = () => page().evaluate(() => localStorage.getItem('paychat.token'))
  const me = async () => (await api('/api/users/me', { token: await token() })).json
  const clipboard = () => page().evaluate(() => navigator.clipboard.readText())
  const lastAnswer = () => page().locator(tid('message-assistant')).last()
  const answers = () => page().locator(tid('message-assistant')).count()
  const roomId = () => new URL(page().url()).pathname.split('/').pop()
  const serverMessages = async () => {
    const res = await api(`/api/chat/rooms/${roomId()}/messages?limit=100`, { token: await token() })
    return res.json.items
  }
  const answered = async (count) => {
    await eventually(`answer ${count}`, async () => (await answers()) === count, 30_000, 200)
    await eventually('the answer to finish', async () => (await lastAnswer().getAttribute('data-status')) === 'done', 30_000, 200)
  }
  const code = 'const answer = 42'
  // Text after the closing fence keeps the sandbox's echo tail out of the code block.
  const prompt = `${RUN} 代码示例：\n\`\`\`js\n${code}\n\`\`\`\n就这些。`
  let before = 0

  await step('chat: copy a code block, and a whole answer', async () => {
    const p = page()
    await p.context().grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE_URL })
    // Enough chat times for this and the next two steps: redeem one of the run's codes if needed.
    if ((await me()).can_conversation_times < 3) {
      const codes = (await api('/api/exchange-codes?limit=100', { token: await token() })).json.items
      const unused = codes.find((c) => !c.used)
      assert(unused, 'no unused code to redeem for chat times')
      const r = await api('/api/exchange-codes/redeem', { method: 'POST', token: await token(), body: { code: unused.code } })
      assert(r.status === 200, `redeem answered ${r.status}`)
    }
    await p.goto(`${BASE_URL}/chat`)
    await p.locator(tid('new-chat')).click()
    await p.locator(`${tid('chat-input')} textarea`).fill(prompt)
    await p.locator(tid('chat-send')).click()
    await answered(1)
    await eventually('the room in the URL', async () => /\/chat\/\d+$/.test(p.url()), 10_000, 200)
    const block = lastAnswer().locator('pre.hljs')
    await block.waitFor()
    await block.locator(tid('code-copy')).click()
    await eventually('the code in the clipboard', async () => (await clipboard()) === `${code}\n`, 5_000, 200)
    await shot('chat-code-copied')
    await lastAnswer().locator(tid('answer-copy')).click()
    await eventually('the whole answer in the clipboard', async () => {
      const text = await clipboard()
      return text.startsWith('Echo: ') && text.includes('```js') && text.includes(RUN)
    }, 5_000, 200)
    // Checked at rest: not hovered, nothing focused.
    await p.mouse.move(0, 0)
    await p.evaluate(() => document.activeElement instanceof HTMLElement && document.activeElement.blur())
    await axeBoth('chat-answer-tools')
  })

  await step('chat: regenerate an answer: a new exchange from the same parent, one chat time', async () => {
    const p = page()
    before = (await me()).can_conversation_times
    const n = await answers()
    await lastAnswer().locator(tid('answer-regenerate')).click()
    await answered(n + 1)
    const after = (await me()).can_conversation_times
    assert(after === before - 1, `regenerating cost ${before - after} chat times`)
    const questions = (await serverMessages()).filter((m) => m.role === 'user')
    assert(questions.length === 2, `${questions.length} questions after regenerating`)
    assert(questions[0].content === questions[1].content, 'the regenerated question differs')
    assert(questions[0].parent_id === questions[1].parent_id, 'the regenerated question has another parent')
    assert((await p.locator(tid('message-assistant')).count()) === 2, 'the first answer is gone')
    await shot('chat-regenerated')
  })

  await step('chat: edit a question and send it again', async () => {
    const p = page()
    before = (await me()).can_conversation_times
    const n = await answers()
    const question = p.locator(tid('message-user')).last()
    await question.locator(tid('question-edit')).click()
    const input = question.locator(`${tid('question-edit-input')} textarea`)
    await input.waitFor()
    await input.fill(`${RUN} 改过的问题`)
    await shot('chat-editing-question')
    await question.locator(tid('question-edit-send')).click()
    await answered(n + 1)
    assert((await lastAnswer().locator(tid('answer-content')).innerText()).includes('改过的问题'), 'the answer is not to the edited question')
    assert((await me()).can_conversation_times === before - 1, 'editing and sending did not cost one chat time')
    const questions = (await serverMessages()).filter((m) => m.role === 'user')
    const edited = questions.find((m) => m.content.includes('改过的问题'))
    assert(edited && edited.parent_id === questions[0].parent_id, 'the edited question has another parent than the original')
    await shot('chat-edited')
  })

  await step('chat: search conversations by title', async () => {
    const p = page()
    const search = p.locator(`${tid('room-search')} input`)
    await search.fill(`${RUN} 代码`)
    await eventually('only the matching room', async () => {
      const titles = await p.locator(tid('room-item')).allInnerTexts()
      return titles.length === 1 && titles[0].includes(`${RUN} 代码`)
    }, 10_000, 200)
    await shot('chat-search')
    await search.fill(`no such title ${RUN}`)
    await p.locator(tid('rooms-empty')).waitFor()
    await search.fill('')
    await eventually('every room again', async () => (await p.locator(tid('room-item')).count()) > 1, 10_000, 200)
  })

  await step('chat: export the conversation as Markdown', async () => {
    const p = page()
    const download = p.waitForEvent('download')
    await p.locator(tid('chat-export')).click()
    const file = await download
    const name = file.suggestedFilename()
    assert(name.endsWith('.md'), `the export is named ${name}`)
    const text = readFileSync(await file.path(), 'utf8')
    assert(text.startsWith('# '), 'the export has no title')
    assert(text.includes(code) && text.includes('改过的问题') && text.includes('Echo: '), 'the export misses messages')
    assert((text.match(/^## /gm) || []).length === 6, `the export has ${(text.match(/^## /gm) || []).length} messages, not 6`)
    console.log(`     exported ${name} (${text.length} characters)`)
  })

  await step('account: nickname and description', async () => {
    const p = page()
    await p.locator(tid('nav-account')).click()
    await p.locator(tid('account-page')).waitFor()
    const nickname = `新名${RUN}`.slice(0, 16)
    await p.locator(`${tid('account-nickname')} input`).fill(nickname)
    await p.locator(`${tid('account-description')} input`).fill(`e2e 简介 ${RUN}`)
    await p.locator(tid('account-profile-save')).click()
    await eventually('the saved profile', async () => {
      const u = await me()
      return u.nickname === nickname && u.description === `e2e 简介 ${RUN}`
    }, 10_000, 300)
    await shot('account-profile')
    await axeBoth('account')
  })

  await step('account: the chat times history', async () => {
    const p = page()
    await p.locator(tid('history-item')).first().waitFor()
    const kinds = await p.locator(tid('history-item')).evaluateAll((els) => els.map((e) => e.getAttribute('data-kind')))
    for (const kind of ['spent', 'redeemed', 'bought']) assert(kinds.includes(kind), `no "${kind}" entry in ${kinds.join(',')}`)
    assert(kinds[0] === 'spent', `the newest entry is ${kinds[0]}, not the last answer`)
    assert((await p.locator(tid('history-item')).first().innerText()).includes('-1'), 'the last answer does not show -1')
    await p.locator(tid('history-list')).scrollIntoViewIfNeeded()
    await shot('account-history')
  })

  await step('account: change the password; other sessions end, this one stays', async () => {
    const p = page()
    const other = await api('/api/auth/login', { method: 'POST', body: { email: USER_EMAIL, password: USER_PASSWORD } })
    assert(other.status === 200, `a second login answered ${other.status}`)
    const fill = async (current, next) => {
      await p.locator(`${tid('password-current')} input`).fill(current)
      await p.locator(`${tid('password-new')} input`).fill(next)
      await p.locator(`${tid('password-again')} input`).fill(next)
      await p.locator(tid('password-save')).click()
    }
    const newPassword = `${USER_PASSWORD}-2`
    await fill('not the password', newPassword)
    const error = p.locator(tid('password-error'))
    await error.waitFor()
    assert((await error.innerText()).trim() === '当前密码不正确', `a wrong current password reads "${await error.innerText()}"`)
    assert(p.url().includes('/account'), 'a wrong current password signed the page out')
    await shot('account-password-wrong')
    const changed = p.waitForResponse((r) => r.url().endsWith('/api/users/me/password'))
    await fill(USER_PASSWORD, newPassword)
    assert((await changed).status() === 204, 'the password change did not answer 204')
    await error.waitFor({ state: 'detached' })
    await shot('account-password-changed')
    assert((await api('/api/users/me', { token: other.json.token })).status === 401, 'the other session still works')
    assert((await api('/api/users/me', { token: await token() })).status === 200, 'this session ended')
    const login = await api('/api/auth/login', { method: 'POST', body: { email: USER_EMAIL, password: newPassword } })
    assert(login.status === 200, `the new password does not sign in (${login.status})`)
    await api('/api/auth/logout', { method: 'POST', token: login.json.token })
    await sleep(100)
  })
}
