// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The visitor pages of the H5 mini-program against the demo data: a
// merchant invites a visitor, the pass page draws the QR code (decoded from
// a screenshot and compared with the API), a gate registered through the
// back office's JSON-RPC opens once for it and then refuses it as used, and
// the page shows the pass used.  A guest applies to visit and the merchant
// approves; a technician records an entry.
import assert from 'node:assert/strict'
import path from 'node:path'
import { createRequire } from 'node:module'
import { after, before, describe, it } from 'node:test'
import {
  API, APP, ROOT, Rpc, api, devAccounts, field, launch, phone, screenshot,
  see, signInAs, storedSession, text,
} from './helpers.mjs'

const require = createRequire(path.join(ROOT, 'miniprogram/package.json'))
const JSQR = require.resolve('jsqr')

let browser
let context
let page
let accounts
let rpc

before(async () => {
  accounts = await devAccounts()
  rpc = await Rpc.login()
  browser = await launch()
  context = await phone(browser)
  page = await context.newPage()
})

after(async () => {
  await browser?.close()
})

const byRole = (role) => accounts.filter((a) => a.role === role)

async function tokenOf(account) {
  const { status, data } = await api('POST', '/auth/dev', { body: { account_id: account.id } })
  assert.equal(status, 200)
  return data.token
}

// The first demo merchant who has a unit to receive visitors at.
async function merchantWithUnit() {
  for (const account of byRole('merchant')) {
    const { data } = await api('GET', '/host/units', { token: await tokenOf(account) })
    if (data.items.length) {
      return { account, unit: data.items[0] }
    }
  }
  throw new Error('no demo merchant occupies a unit')
}

// A gate of the estate with a fresh key, as the back office's "New Key"
// button gives it (the key is shown once).
async function registerGate(estateId) {
  const [gateId] = await rpc.model('property.visitor.gate', 'create',
    [{ estate: estateId, name: '端到端测试门岗', code: `E2E-${Date.now()}` }])
  const wizard = 'wizard.property.visitor.gate.key'
  const context = { ...rpc.context, active_id: gateId, active_ids: [gateId],
    active_model: 'property.visitor.gate' }
  const [session, start] = await rpc.call(`${wizard}.create`, [rpc.context])
  const result = await rpc.call(`${wizard}.execute`, [session, {}, start, context])
  await rpc.call(`${wizard}.delete`, [session, context])
  const key = result.view.defaults.key
  assert.match(key, /^gk_/)
  return { id: gateId, key }
}

async function gateVerify(gate, token) {
  const response = await fetch(`${API}/gate/verify`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json', Authorization: `Gate ${gate.id}:${gate.key}` },
    body: JSON.stringify({ token }),
  })
  return { status: response.status, data: await response.json() }
}

// What a phone camera would read: the QR code decoded from a screenshot of
// the element, with jsQR in a blank page of the same browser.
async function decodeQr(locator) {
  const png = await locator.screenshot()
  const tool = await context.newPage()
  try {
    await tool.setContent('<!DOCTYPE html><html><body></body></html>')
    await tool.addScriptTag({ path: JSQR })
    return await tool.evaluate(async (base64) => {
      const image = new Image()
      image.src = `data:image/png;base64,${base64}`
      await image.decode()
      const canvas = document.createElement('canvas')
      canvas.width = image.width
      canvas.height = image.height
      const context2d = canvas.getContext('2d')
      context2d.drawImage(image, 0, 0)
      const pixels = context2d.getImageData(0, 0, image.width, image.height)
      const code = window.jsQR(pixels.data, image.width, image.height)
      return code ? code.data : null
    }, png.toString('base64'))
  } finally {
    await tool.close()
  }
}

// The rotating code the page draws, checked against the API's code of the
// same period (read again when a period ended between the two reads).
async function decodeRotating(qr, passId, token) {
  let decoded
  let expected
  for (let attempt = 0; attempt < 3; attempt += 1) {
    decoded = await decodeQr(qr)
    const code = await api('GET', `/passes/${passId}/code`, { token })
    assert.equal(code.status, 200)
    expected = code.data.token
    if (decoded === expected) {
      break
    }
    await page.waitForTimeout(2500)
  }
  assert.ok(decoded, 'the QR code on the page decodes')
  assert.equal(decoded, expected)
  return decoded
}

const passIdOf = (url) => Number(new URL(url.replace('#', '')).searchParams.get('id'))

async function pickUnit(code) {
  await page.locator('.vapply-choose').click()
  await see(page, '选择房间')
  await page.locator('.picker-input input').fill(code)
  const item = page.locator('.picker-item').filter({ hasText: code }).first()
  await item.waitFor()
  await item.click()
  await page.locator('.picker-ok').click()
  await page.locator('.vapply-unit-code').filter({ hasText: code }).waitFor()
}

describe('visitor pages (H5)', () => {
  let merchant
  let unit
  let token
  let passId
  let pass
  let staticToken
  let rotatingToken
  let gate
  const visitor = { name: '李访客', phone: '13700001111', plate: '粤b 12345' }

  it('opens the visitor hub from the home menu with the host entries', async () => {
    ({ account: merchant, unit } = await merchantWithUnit())
    await signInAs(page, merchant)
    await page.locator('.menu-item[data-key="visitor"]').click()
    await see(page, '邀请访客')
    const titles = await page.locator('.vhub-entry-title').allTextContents()
    assert.deepEqual(titles, ['邀请访客', '访客记录与审批', '批量访客卡', '申请来访', '我的来访'])
    await screenshot(page, 'hub-merchant')
  })

  it('checks the invitation form before sending it', async () => {
    await text(page, '邀请访客').click()
    await see(page, '生成通行码')
    await page.locator('.vinvite-unit-one, .vinvite-unit').first().waitFor()
    await page.locator('.vinvite-submit').click()
    await see(page, '请填写姓名')
    await see(page, '请填写手机号')
    await field(page, '访客手机号').fill('12345')
    await field(page, '车牌号').fill('粤B')
    await page.locator('.vinvite-submit').click()
    await see(page, '请填写11位手机号')
    await see(page, /^车牌号应为5至12位/)
  })

  it('invites a visitor and shows the pass at once', async () => {
    await field(page, '访客姓名').fill(visitor.name)
    await field(page, '访客手机号').fill(visitor.phone)
    await field(page, '来访事由').fill('商务洽谈')
    await field(page, '车牌号').fill(visitor.plate)
    await screenshot(page, 'invite-filled')
    await page.locator('.vinvite-submit').click()
    await see(page, '访客通行证 · ' + unit.estate)
    assert.match(page.url(), /#\/pages\/visitor\/pass\?id=\d+$/)
    passId = passIdOf(page.url())
    token = (await storedSession(page)).token
    const answer = await api('GET', `/passes/${passId}`, { token })
    assert.equal(answer.status, 200)
    pass = answer.data
    assert.equal(pass.state, 'active')
    assert.equal(pass.visitor_name, visitor.name)
    await see(page, visitor.name)
    await see(page, '有效')
    // the host gets the share link of the pass
    await see(page, '复制链接')
    const link = await page.locator('.vpass-link').textContent()
    assert.equal(link.trim(), `${APP}#/pages/visitor/shared?key=${pass.share_key}`)
    // the visit is registered as the host entered it
    const visit = await api('GET', `/host/visits/${pass.visit}`, { token })
    assert.equal(visit.data.state, 'approved')
    assert.equal(visit.data.visitor_phone, visitor.phone)
    assert.equal(visit.data.plate, '粤B12345')
    assert.equal(visit.data.unit.code, unit.code)
  })

  it('draws the static code of the pass as a QR code', async () => {
    // the host sees the static code first: it is the one to share
    await page.locator('.vpass-mode-on[data-mode="static"]').waitFor()
    const qr = page.locator('.vpass-qr[data-mode="static"] .vqr')
    await qr.waitFor()
    staticToken = await decodeQr(qr)
    assert.ok(staticToken, 'the QR code on the page decodes')
    assert.equal(staticToken, pass.token)
    assert.match(staticToken, /^PV1\./)
    await screenshot(page, 'pass-static')
  })

  it('draws the rotating code of the pass as a QR code', async () => {
    await page.locator('.vpass-mode[data-mode="rotating"]').click()
    const qr = page.locator('.vpass-qr[data-mode="rotating"] .vqr')
    await qr.waitFor()
    await see(page, /^动态码定时更新，截图无效/)
    rotatingToken = await decodeRotating(qr, passId, token)
    assert.notEqual(rotatingToken, staticToken)
    await screenshot(page, 'pass-rotating')
  })

  it('opens a gate once for the code, then refuses it as used', async () => {
    gate = await registerGate(pass.estate.id)
    const first = await gateVerify(gate, staticToken)
    assert.equal(first.status, 200, JSON.stringify(first.data))
    assert.equal(first.data.result, 'open')
    assert.equal(first.data.pass_id, passId)

    const again = await gateVerify(gate, staticToken)
    assert.equal(again.status, 409)
    assert.equal(again.data.result, 'deny')
    assert.equal(again.data.reason, 'used')
    assert.equal(again.data.error.code, 'used')

    const rotating = await gateVerify(gate, rotatingToken)
    assert.equal(rotating.status, 409)
    assert.equal(rotating.data.reason, 'used')
  })

  it('shows the pass as used without a reload', async () => {
    const before = context.problems.length
    await page.locator('.vpass-stamp-used').waitFor({ timeout: 15000 })
    // the browser logs the refusal of a new code for the used pass, if the
    // page asked for one before it learnt the pass was used
    context.problems.splice(before).forEach((p) => {
      assert.match(p, /409.*\/passes\/\d+\/code/, `only the expected 409 is logged: ${p}`)
    })
    await see(page, '已使用')
    await see(page, /^通行时间 /)
    assert.equal(await page.locator('.vqr').count(), 0, 'no QR code once used')
    await screenshot(page, 'pass-used')
  })

  it('lists the visit as completed for the host', async () => {
    await page.goto(`${APP}#/pages/visitor/host-visits`)
    const item = page.locator(`.vitem[data-id="${pass.visit}"]`)
    await item.waitFor()
    assert.match(await item.textContent(), /已到访/)
    assert.match(await item.textContent(), new RegExp(visitor.name))
    await screenshot(page, 'host-visits')
  })

  describe('application and approval', () => {
    let guest
    let visitId

    it('lets a guest apply to visit the merchant', async () => {
      guest = byRole('guest').at(-1)
      await page.evaluate(() => localStorage.clear())
      await signInAs(page, guest)
      await page.locator('.menu-item[data-key="visitor"]').click()
      await see(page, '申请来访')
      assert.deepEqual(await page.locator('.vhub-entry-title').allTextContents(),
        ['申请来访', '我的来访'])
      await text(page, '申请来访').click()
      await see(page, '提交申请')
      await page.locator('.vapply-submit').click()
      await see(page, '请选择要拜访的房间')
      await pickUnit(unit.code)
      await field(page, '被访人手机号').fill(merchant.phone)
      await field(page, '您的姓名').fill('王申请')
      await field(page, '您的手机号').fill('13600002222')
      await field(page, '来访事由').fill('面试')
      await screenshot(page, 'apply-filled')
      await page.locator('.vapply-submit').click()
      await see(page, '申请已提交，等待商家/租客审批。')
      assert.match(page.url(), /#\/pages\/visitor\/my-visit\?id=\d+$/)
      visitId = passIdOf(page.url())
      await see(page, '待审批')
      await screenshot(page, 'apply-sent')
    })

    it('lets the merchant approve the application', async () => {
      await page.evaluate(() => localStorage.clear())
      await signInAs(page, merchant)
      await page.locator('.menu-item[data-key="visitor"]').click()
      await page.locator('.vhub-badge').waitFor()
      await text(page, '访客记录与审批').click()
      await page.locator('.vtab-on[data-state="requested"]').waitFor()
      await page.locator(`.vitem[data-id="${visitId}"]`).click()
      await see(page, '审批来访申请')
      await see(page, '王申请')
      await screenshot(page, 'approve')
      await page.locator('.vhv-approve').click()
      await see(page, '查看通行证')
      await see(page, '已通过')
    })

    it('gives the guest the pass with its rotating code', async () => {
      await page.evaluate(() => localStorage.clear())
      await signInAs(page, guest)
      await page.goto(`${APP}#/pages/visitor/my-visit?id=${visitId}`)
      await text(page, '查看我的通行证').click()
      // the visitor's own page shows the rotating code, and no share entry
      await page.locator('.vpass-mode-on[data-mode="rotating"]').waitFor()
      const qr = page.locator('.vpass-qr[data-mode="rotating"] .vqr')
      await qr.waitFor()
      const guestToken = (await storedSession(page)).token
      const id = passIdOf(page.url())
      assert.match(await decodeRotating(qr, id, guestToken), /^PV1\./)
      assert.equal(await page.locator('.vpass-share').count(), 0)
      await screenshot(page, 'pass-guest')
    })
  })

  it('requests a card batch and issues a card once the office approves', async () => {
    await page.evaluate(() => localStorage.clear())
    await signInAs(page, merchant)
    await page.goto(`${APP}#/pages/visitor/batches`)
    await see(page, '申请访客卡')
    await text(page, '申请访客卡').click()
    await see(page, '提交申请')
    await field(page, '团体名称').fill('供应商大会')
    await field(page, '卡片数量').fill('600')
    await page.locator('.vbnew-submit').click()
    await see(page, '一次最多申请500张')
    await field(page, '卡片数量').fill('2')
    await screenshot(page, 'batch-new')
    await page.locator('.vbnew-submit').click()
    await see(page, '已提交物业审核，审核通过后即可发放访客卡。')
    const batchId = passIdOf(page.url())
    await see(page, '0 / 2 张')

    await rpc.model('property.visitor.card.batch', 'approve', [batchId])
    await page.reload()
    await see(page, '发放访客卡')
    await field(page, '持卡人姓名').fill('钱参会')
    await page.locator('.vbd-issue-btn').click()
    await see(page, '访客卡 · ' + unit.estate)
    await see(page, '钱参会')
    await page.locator('.vpass-qr .vqr').waitFor()
    await screenshot(page, 'batch-card')
    await page.goBack()
    await see(page, '1 / 2 张')
    await page.locator('.vbd-card').first().waitFor()
  })

  it('lets a visitor claim a shared pass after signing in', async () => {
    // the host invites through the API and sends the link of the pass page
    const start = new Date()
    const invited = await api('POST', '/visits/invitations', { token, body: {
      visitor_name: '赵分享', visitor_phone: '13500003333', purpose: '送货',
      valid_from: start.toISOString(),
      valid_to: new Date(start.getTime() + 3600 * 1000).toISOString(),
    } })
    assert.equal(invited.status, 201)
    const shared = invited.data.pass
    const link = `${APP}#/pages/visitor/shared?key=${shared.share_key}`
    const guest = byRole('guest')[0]
    await page.evaluate(() => localStorage.clear())
    await page.goto(link)
    // without a session: sign-in first, then back to the shared pass
    await see(page, '开发登录')
    await page.locator('.account').filter({ hasText: guest.name })
      .filter({ hasText: guest.phone || '' }).first().click()
    await page.waitForURL(new RegExp(`#/pages/visitor/pass\\?id=${shared.id}$`))
    await see(page, '赵分享')
    await page.locator('.vpass-mode-on[data-mode="rotating"]').waitFor()
    await page.locator('.vpass-qr[data-mode="rotating"] .vqr').waitFor()
    const host = await api('GET', `/passes/${shared.id}`, { token })
    assert.equal(host.data.claimed, true)
    await screenshot(page, 'pass-shared')
  })

  it('records a technician entry', async () => {
    const technician = byRole('technician')[0]
    await page.evaluate(() => localStorage.clear())
    await signInAs(page, technician)
    await page.locator('.menu-item[data-key="visitor"]').click()
    await see(page, '出入登记')
    await text(page, '出入登记').click()
    await see(page, '我的出入记录')
    await page.locator('.vtech-estate').waitFor()
    await page.locator('.vtech-dir[data-direction="in"]').click()
    await page.locator('.vtech-submit').click()
    await see(page, '当前在园区内')
    await page.locator('.vtech-item').first().waitFor()
    assert.match(await page.locator('.vtech-item').first().textContent(), /进场/)
    // the next record offered is the exit
    await page.locator('.vtech-dir-on[data-direction="out"]').waitFor()
    await screenshot(page, 'technician')
  })

  it('logs no console errors', () => {
    assert.deepEqual(context.problems, [])
  })
})
