// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The mini-program's H5 build served by trytond at /m/, in a phone-sized
// headless Chromium, against the demo data: sign-in, home menu per role,
// certification submitted, approved and rejected, personal center.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  APP, Rpc, api, devAccounts, field, launch, menuTitles, phone, pngImage,
  screenshot, see, signInAs, storedSession, text,
} from './helpers.mjs'

// The seed's menu and who may use each entry (requirements: permission
// matrix), independent of the app's own menu code.
const EVERYONE = ['guest', 'merchant', 'tenant', 'technician']
const SEED_MENU = [
  ['在线缴费', 'property_billing', ['merchant', 'tenant']],
  ['设备报修', 'property_repair', ['merchant', 'tenant', 'technician']],
  ['来访登记', 'property_visitor', EVERYONE],
  ['场地租赁', 'property_leasing', EVERYONE],
  ['失物招领', 'property_community', ['merchant', 'tenant', 'technician']],
  ['便民服务', 'property_community', EVERYONE],
  ['投诉建议', 'property_community', ['merchant', 'tenant']],
]
const expectedMenu = (role, modules) => SEED_MENU
  .filter(([, module, roles]) => modules.includes(module) && roles.includes(role))
  .map(([title]) => title)

let browser
let context
let page
let accounts
let modules
let rpc
let vacant
const problems = []

before(async () => {
  accounts = await devAccounts()
  rpc = await Rpc.login()
  vacant = await rpc.vacantUnits(2)
  browser = await launch()
  context = await phone(browser)
  page = await context.newPage()
})

after(async () => {
  if (context) {
    problems.push(...context.problems)
  }
  await browser?.close()
})

const byRole = (role) => accounts.filter((a) => a.role === role)

async function openCertification() {
  await text(page, '去认证 ›').click()
  await see(page, '提交认证')
}

async function chooseUnit(query) {
  await page.locator('.choose-units').click()
  await see(page, '选择房间')
  const search = page.locator('.picker-input input')
  await search.fill(query)
  const item = page.locator('.picker-item').filter({ hasText: query }).first()
  await item.waitFor()
  const code = (await item.locator('.picker-code').textContent()).trim()
  await item.click()
  await text(page, '已选 1 / 20').waitFor()
  await page.locator('.picker-ok').click()
  await page.locator('.chip').filter({ hasText: code }).waitFor()
  return code
}

async function fillCertification({ name, phone: mobile, role = '商家', unit }) {
  await field(page, '姓名').fill(name)
  await field(page, '手机号').fill(mobile)
  await page.locator('.role-choice').filter({ hasText: role }).click()
  return chooseUnit(unit)
}

async function submitCertification() {
  await page.locator('.submit').click()
  await see(page, '认证审核中')
}

describe('H5 mini-program', () => {
  let guest
  let unitCode

  it('sends a visitor without session to the sign-in page', async () => {
    await page.goto(APP)
    await see(page, '开发登录')
    assert.match(page.url(), /#\/pages\/login\/login$/)
    await page.locator('.account').first().waitFor()
    const roles = await page.locator('.account .tag').allTextContents()
    for (const role of ['游客', '商家', '租客', '维修师傅']) {
      assert.ok(roles.includes(role), `the picker offers a ${role}`)
    }
    await screenshot(page, 'sign-in')
  })

  it('says so when the server has no development sign-in', async () => {
    // what a server without [property] dev_login answers
    await page.route('**/api/v1/auth/dev/accounts', (route) => route.fulfill({
      status: 404, contentType: 'application/json',
      body: JSON.stringify({ error: { code: 'not_found', message: '未找到', field: null } }),
    }))
    const before = context.problems.length
    await page.reload()
    await see(page, /服务器未开启开发登录/)
    // the browser logs the 404 it was given
    context.problems.splice(before).forEach((p) => {
      assert.match(p, /404.*auth\/dev\/accounts/, `only the expected 404 is logged: ${p}`)
    })
    assert.equal(await page.locator('.account').count(), 0)
    await screenshot(page, 'sign-in-disabled')
    await page.unroute('**/api/v1/auth/dev/accounts')
    await page.reload()
    await page.locator('.account').first().waitFor()
  })

  it('signs a guest in and shows the guest menu', async () => {
    guest = byRole('guest')[0]
    await text(page, '游客').click()
    const shown = await page.locator('.account .tag').allTextContents()
    assert.ok(shown.length > 0 && shown.every((r) => r === '游客'))
    await signInAs(page, guest)
    const me = await api('GET', '/me', { token: (await storedSession(page)).token })
    assert.equal(me.status, 200)
    assert.equal(me.data.role, 'guest')
    modules = me.data.modules
    assert.deepEqual(await menuTitles(page), expectedMenu('guest', modules))
    await see(page, '游客')
    await see(page, '认证商家/租客，解锁缴费、报修等服务')
    await see(page, '暂无公告')
    await screenshot(page, 'home-guest')
  })

  it('lets the guest submit a certification with a photo', async () => {
    await openCertification()
    await screenshot(page, 'certification-form')

    // nothing chosen: the form says what is missing
    await field(page, '姓名').fill('')
    await page.locator('.submit').click()
    await see(page, '请填写姓名')
    await see(page, '请至少选择一个房间')

    unitCode = await fillCertification({
      name: guest.name, phone: '13912345678', unit: vacant[0].code })
    assert.equal(unitCode, vacant[0].code)

    // a file that is no image: the API's message is shown, nothing kept
    const before = context.problems.length
    let chooser = page.waitForEvent('filechooser')
    await page.locator('.photo-add').click()
    await (await chooser).setFiles({
      name: 'notes.png', mimeType: 'image/png', buffer: Buffer.from('not an image') })
    await see(page, /^照片上传失败：.+/)
    await page.locator('.photo-state').waitFor({ state: 'detached' })
    assert.equal(await page.locator('.photo-image').count(), 0)
    context.problems.splice(before).forEach((p) => {
      assert.match(p, /422.*\/uploads/, `only the refused upload is logged: ${p}`)
    })

    chooser = page.waitForEvent('filechooser')
    await page.locator('.photo-add').click()
    await (await chooser).setFiles({
      name: 'licence.png', mimeType: 'image/png', buffer: pngImage() })
    await page.locator('.photo-image').first().waitFor()
    await page.locator('.photo-state').waitFor({ state: 'detached' })
    await screenshot(page, 'certification-filled')

    await submitCertification()
    await see(page, guest.name)
    await see(page, unitCode)
    await screenshot(page, 'certification-pending')
  })

  it('keeps the guest menu while the request is pending', async () => {
    await page.goto(`${APP}#/pages/index/index`)
    await see(page, '认证审核中，请耐心等待')
    assert.deepEqual(await menuTitles(page), expectedMenu('guest', modules))
  })

  it('shows the merchant role and menu once an admin approves', async () => {
    await text(page, '查看 ›').click()
    await see(page, '认证审核中')
    await rpc.approve(await rpc.pendingCertification(guest.id))
    await text(page, '刷新状态').click()
    await see(page, '已认证为商家')
    await screenshot(page, 'certification-approved')

    await text(page, '返回首页').click()
    await see(page, '商家')
    assert.deepEqual(await menuTitles(page), expectedMenu('merchant', modules))
    assert.equal(await page.locator('.cert-banner').count(), 0)
    await screenshot(page, 'home-merchant')
  })

  it('shows profile and role in the personal center', async () => {
    await page.locator('.uni-tabbar__item').filter({ hasText: '个人中心' }).click()
    await see(page, '我的房间')
    await see(page, guest.name)
    await see(page, guest.phone)
    assert.ok((await page.locator('.row').filter({ hasText: '身份' })
      .textContent()).includes('商家'))
    await screenshot(page, 'personal-center')
  })

  it('lists the approved unit under my units', async () => {
    const me = await api('GET', '/me', { token: (await storedSession(page)).token })
    assert.deepEqual(me.data.units.map((u) => u.code), [unitCode],
      'GET /me lists the units of the approved certification')
    await page.reload()
    await see(page, unitCode)
  })

  it('edits name and phone from the personal center', async () => {
    await text(page, '编辑资料').click()
    await see(page, '保存')
    await field(page, '手机号').fill('12345')
    await text(page, '保存').click()
    await see(page, '请填写11位手机号')
    await field(page, '姓名').fill(`${guest.name}（店长）`)
    await field(page, '手机号').fill('13987654321')
    await screenshot(page, 'profile-edit')
    await text(page, '保存').click()
    await see(page, '我的房间')
    await see(page, `${guest.name}（店长）`)
    await see(page, '13987654321')
  })

  it('shows a rejection with its reason and accepts a new request', async () => {
    const other = byRole('guest')[1]
    await page.evaluate(() => localStorage.clear())
    await signInAs(page, other)
    await openCertification()
    const code = await fillCertification({
      name: other.name, phone: '13812345678', role: '租客', unit: vacant[1].code })
    await submitCertification()

    const reason = '租赁合同照片不清晰，请重新上传'
    await rpc.reject(await rpc.pendingCertification(other.id), reason)
    await text(page, '刷新状态').click()
    await see(page, '认证未通过')
    await see(page, reason)
    await screenshot(page, 'certification-rejected')

    await text(page, '重新申请').click()
    await see(page, '提交认证')
    assert.equal(await field(page, '姓名').inputValue(), other.name)
    await page.locator('.chip').filter({ hasText: code }).waitFor()
    await submitCertification()
  })

  it('shows a technician only the technician entries', async () => {
    const technician = byRole('technician')[0]
    await page.evaluate(() => localStorage.clear())
    await signInAs(page, technician)
    await see(page, '维修师傅')
    const titles = await menuTitles(page)
    assert.deepEqual(titles, expectedMenu('technician', modules))
    for (const title of ['在线缴费', '投诉建议']) {
      assert.ok(!titles.includes(title), `no ${title} for a technician`)
    }
    assert.equal(await page.locator('.cert-banner').count(), 0)
    await screenshot(page, 'home-technician')
  })

  it('returns to sign-in when the session ends on the server', async () => {
    const { token } = await storedSession(page)
    const logout = await api('POST', '/auth/logout', { token })
    assert.equal(logout.status, 204)
    // the browser logs the expected 401 of the next call
    const before = context.problems.length
    await page.reload()
    await see(page, '开发登录')
    assert.match(page.url(), /#\/pages\/login\/login$/)
    assert.equal(await storedSession(page), null)
    context.problems.splice(before).forEach((p) => {
      assert.match(p, /401/, `only the expected 401 is logged: ${p}`)
    })
  })

  it('signs out from the personal center', async () => {
    const merchant = byRole('merchant')[0]
    await signInAs(page, merchant)
    await page.locator('.uni-tabbar__item').filter({ hasText: '个人中心' }).click()
    await text(page, '退出登录').click()
    const { token } = await storedSession(page)
    await page.locator('.uni-modal__btn_primary').click()
    await see(page, '开发登录')
    assert.equal((await api('GET', '/me', { token })).status, 401)
  })

  it('logs no console errors', () => {
    assert.deepEqual([...context.problems, ...problems], [])
  })
})
