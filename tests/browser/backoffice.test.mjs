// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// Back-office smoke test in sao: an administrator logs in at /, opens the
// certification requests from the menu and approves one with its button.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  ADMIN, DB, BASE, Rpc, api, devAccounts, launch, screenshot,
} from './helpers.mjs'

let browser
let context
let page
let rpc
let applicant
const pageErrors = []

before(async () => {
  rpc = await Rpc.login()
  // A guest asks for certification through the API, as the app would.
  const guest = (await devAccounts()).filter((a) => a.role === 'guest').at(-1)
  const signIn = await api('POST', '/auth/dev', { body: { account_id: guest.id } })
  assert.equal(signIn.status, 200)
  const [unit] = await rpc.vacantUnits(1)
  const request = await api('POST', '/certifications', {
    token: signIn.data.token,
    body: { name: guest.name, phone: '13700001111', role: 'tenant', units: [unit.id] },
  })
  assert.equal(request.status, 201, JSON.stringify(request.data))
  applicant = { ...guest, token: signIn.data.token, certification: request.data.id }

  browser = await launch()
  context = await browser.newContext({
    viewport: { width: 1280, height: 800 }, locale: 'zh-CN' })
  page = await context.newPage()
  page.on('pageerror', (error) => pageErrors.push(error.message))
})

after(async () => {
  await browser?.close()
})

describe('back office (sao)', () => {
  it('logs the administrator in', async () => {
    await page.goto(`${BASE}/`)
    await page.locator('.login-dialog input#login').waitFor({ timeout: 30000 })
    const database = page.locator('.login-dialog #database:visible')
    const kind = await database.evaluate((el) => (el.tagName === 'SELECT'
      ? 'select' : el.readOnly ? 'readonly' : 'input'))
    if (kind === 'select') {
      await database.selectOption(DB)
    } else if (kind === 'input') {
      await database.fill(DB)
    } else {
      // the server offers only this database
      assert.equal(await database.inputValue(), DB)
    }
    await page.locator('.login-dialog input#login').fill(ADMIN.login)
    await page.locator('.login-dialog button[type=submit]').click()
    const password = page.locator('.ask-dialog input#ask-dialog-entry[type=password]')
    await password.waitFor()
    await password.fill(ADMIN.password)
    await page.locator('.ask-dialog .modal-footer button.btn-primary').click()
    await page.locator('#menu div.column-char').first().waitFor({ timeout: 30000 })
    await screenshot(page, 'backoffice-menu')
  })

  it('opens the certification requests from the menu', async () => {
    const item = (label) => page.locator('#menu tbody tr').filter({
      has: page.locator(`div.column-char[title="${label}"]`) }).first()
    const path = await rpc.menuPath('property.certification')
    for (const [i, label] of path.entries()) {
      const row = item(label)
      await row.waitFor()
      if (i < path.length - 1) {
        if (!(await item(path[i + 1]).isVisible())) {
          await row.locator('span.expander').click()
        }
      } else {
        await row.locator('div.column-char').dblclick()
      }
    }
    const request = page.locator('.tab-content tr').filter({ hasText: applicant.name })
    await request.first().waitFor({ timeout: 30000 }).catch((error) => {
      throw new Error(`the list does not show the request; sao errors: ${
        JSON.stringify(pageErrors)}`, { cause: error })
    })
    await screenshot(page, 'backoffice-certification-list')
  })

  it('approves the request with its button', async () => {
    await page.locator('.tab-content tr').filter({ hasText: applicant.name })
      .first().dblclick()
    const approve = page.locator('button[name="approve"]:visible').first()
    await approve.waitFor({ timeout: 30000 })
    await screenshot(page, 'backoffice-certification-form')
    await approve.click()
    // the button asks for confirmation
    await page.locator('.modal:visible .modal-footer button.btn-primary').click()
    await page.locator('button[name="approve"]').first().waitFor({
      state: 'hidden', timeout: 30000 })
    await screenshot(page, 'backoffice-certification-approved')
    const [record] = await rpc.model('property.certification', 'read',
      [applicant.certification], ['state'])
    assert.equal(record.state, 'approved')
    const me = await api('GET', '/me', { token: applicant.token })
    assert.equal(me.data.role, 'tenant')
  })
})
