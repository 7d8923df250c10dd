// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// What the browser tests share: the server under test, Chromium through
// playwright-core, the mini-program API and the back office's JSON-RPC.
import assert from 'node:assert/strict'
import fs from 'node:fs'
import path from 'node:path'
import zlib from 'node:zlib'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
export const ROOT = path.resolve(here, '../..')
const require = createRequire(path.join(ROOT, 'miniprogram/package.json'))
const { chromium } = require('playwright-core')

export const BASE = (process.env.E2E_BASE_URL || 'http://127.0.0.1:8000').replace(/\/$/, '')
export const DB = process.env.E2E_DB || 'demo'
export const ADMIN = { login: 'admin', password: process.env.E2E_ADMIN_PASSWORD || 'admin' }
export const ARTIFACTS = process.env.E2E_ARTIFACTS || path.join(ROOT, 'tests/artifacts')
export const API = `${BASE}/${DB}/api/v1`
export const APP = `${BASE}/m/`
export const PHONE_VIEWPORT = { width: 375, height: 667 }

const FLAGS = ['--headless', '--no-sandbox', '--disable-gpu',
  '--disable-background-networking', '--disable-component-update',
  '--disable-sync', '--no-first-run']

export function launch() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
    args: FLAGS,
  })
}

// A phone-sized context whose console errors and page errors are recorded.
export async function phone(browser, { mobile = true } = {}) {
  const context = await browser.newContext({
    viewport: PHONE_VIEWPORT,
    deviceScaleFactor: 2,
    isMobile: mobile,
    hasTouch: mobile,
    locale: 'zh-CN',
    timezoneId: 'Asia/Shanghai',
  })
  context.problems = []
  context.on('page', (page) => watch(page, context.problems))
  return context
}

function watch(page, problems) {
  page.on('pageerror', (error) => problems.push(`page error: ${error.message}`))
  page.on('console', (message) => {
    if (message.type() === 'error') {
      const where = message.location() && message.location().url
      problems.push(`console error: ${message.text()} ${where || ''}`.trim())
    }
  })
}

// node --test runs each test file in its own process: name the shots after it.
const SUITE = path.basename(process.argv[1] || 'e2e').replace(/\.test\.mjs$/, '')
let shot = 0
export async function screenshot(page, name) {
  fs.mkdirSync(ARTIFACTS, { recursive: true })
  shot += 1
  const file = path.join(ARTIFACTS,
    `${SUITE}-${String(shot).padStart(2, '0')}-${name}.png`)
  // let uni's page transitions settle and its toasts go
  await page.waitForTimeout(300)
  await page.locator('.uni-sample-toast, .uni-toast').first()
    .waitFor({ state: 'hidden', timeout: 3000 }).catch(() => {})
  await page.screenshot({ path: file })
  return file
}

// --- the mini-program API, as a client would call it ---

export async function api(method, route, { token, body } = {}) {
  const headers = { Accept: 'application/json', 'Accept-Language': 'zh-CN' }
  if (token) {
    headers.Authorization = `Bearer ${token}`
  }
  if (body !== undefined) {
    headers['Content-Type'] = 'application/json'
  }
  const response = await fetch(API + route, {
    method, headers, body: body === undefined ? undefined : JSON.stringify(body),
  })
  const text = await response.text()
  return { status: response.status, data: text ? JSON.parse(text) : null }
}

export async function devAccounts() {
  const { status, data } = await api('GET', '/auth/dev/accounts')
  assert.equal(status, 200, 'the server under test must enable dev_login')
  return data.items
}

// --- the back office's JSON-RPC (tryton-notes §3.1) ---

export class Rpc {
  static async login(login = ADMIN.login, password = ADMIN.password) {
    const rpc = new Rpc()
    const [uid, token] = await rpc.call('common.db.login',
      [login, { password }, 'zh_CN'])
    rpc.auth = 'Session ' + Buffer.from(`${login}:${uid}:${token}`).toString('base64')
    rpc.context = await rpc.call('model.res.user.get_preferences', [true, {}])
    return rpc
  }

  async call(method, params) {
    const headers = { 'Content-Type': 'application/json' }
    if (this.auth) {
      headers.Authorization = this.auth
    }
    const response = await fetch(`${BASE}/${DB}/rpc/`, {
      method: 'POST', headers,
      body: JSON.stringify({ id: 1, method, params }),
    })
    assert.equal(response.status, 200, `${method}: HTTP ${response.status}`)
    const answer = await response.json()
    if (answer.error) {
      throw new Error(`${method}: ${JSON.stringify(answer.error)}`)
    }
    return answer.result
  }

  model(name, method, ...args) {
    return this.call(`model.${name}.${method}`, [...args, this.context])
  }

  async pendingCertification(webUserId) {
    const ids = await this.model('property.certification', 'search',
      [['web_user', '=', webUserId], ['state', '=', 'pending']], 0, null, null)
    assert.equal(ids.length, 1, `one pending request of account ${webUserId}`)
    return ids[0]
  }

  approve(id) {
    return this.model('property.certification', 'approve', [id])
  }

  async reject(id, reason) {
    const wizard = 'wizard.property.certification.reject'
    const context = { ...this.context, active_id: id, active_ids: [id],
      active_model: 'property.certification' }
    const [session] = await this.call(`${wizard}.create`, [this.context])
    await this.call(`${wizard}.execute`, [session, {}, 'start', context])
    await this.call(`${wizard}.execute`,
      [session, { start: { reason } }, 'reject', context])
    await this.call(`${wizard}.delete`, [session, context])
  }

  // Units nobody occupies, which a certification may claim: [{id, code}]
  async vacantUnits(count) {
    const units = await this.model('property.unit', 'search_read',
      [['state', '=', 'vacant'], ['type', 'in', ['office', 'shop', 'apartment']]],
      0, count, [['full_code', 'ASC']], ['full_code'])
    assert.equal(units.length, count, `${count} vacant units in the demo data`)
    return units.map((unit) => ({ id: unit.id, code: unit.full_code }))
  }

  // The labels of the menu path that opens a model's list, as sao shows them.
  async menuPath(model) {
    const actions = await this.model('ir.action.act_window', 'search_read',
      [['res_model', '=', model]], 0, null, null, ['id'])
    const wanted = new Set(actions.map((a) => `ir.action.act_window,${a.id}`))
    const menus = await this.model('ir.ui.menu', 'search_read',
      [], 0, null, null, ['id', 'name', 'parent', 'action'])
    const byId = new Map(menus.map((m) => [m.id, m]))
    let menu = menus.find((m) => wanted.has(m.action))
    assert.ok(menu, `a menu opens ${model}`)
    const names = []
    while (menu) {
      names.unshift(menu.name)
      menu = menu.parent ? byId.get(menu.parent) : null
    }
    return names
  }
}

// --- the H5 app ---

// A tiny valid PNG (solid colour), for the certification photos.
export function pngImage(size = 16) {
  const chunk = (type, data) => {
    const body = Buffer.concat([Buffer.from(type, 'ascii'), data])
    const length = Buffer.alloc(4)
    length.writeUInt32BE(data.length)
    const crc = Buffer.alloc(4)
    crc.writeUInt32BE(zlib.crc32(body))
    return Buffer.concat([length, body, crc])
  }
  const header = Buffer.alloc(13)
  header.writeUInt32BE(size, 0)
  header.writeUInt32BE(size, 4)
  header.set([8, 2, 0, 0, 0], 8)
  const row = Buffer.concat([Buffer.from([0]),
    Buffer.alloc(size * 3, Buffer.from([22, 119, 255]))])
  const pixels = zlib.deflateSync(Buffer.concat(Array(size).fill(row)))
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header), chunk('IDAT', pixels), chunk('IEND', Buffer.alloc(0))])
}

export function text(page, value, options = {}) {
  return page.getByText(value, { exact: true, ...options }).first()
}

export async function see(page, value, options = {}) {
  const locator = typeof value === 'string' ? text(page, value) : page.getByText(value).first()
  await locator.waitFor({ state: 'visible', timeout: options.timeout || 10000 })
  return locator
}

export function field(page, label) {
  return page.locator('.field').filter({ hasText: label }).locator('input').first()
}

// The menu titles the home page shows, in order.
export async function menuTitles(page) {
  await page.locator('.menu-item').first().waitFor({ timeout: 10000 })
  return page.locator('.menu-item .menu-title').allTextContents()
}

// The token the H5 app keeps in storage (uni wraps values in {type, data}).
export async function storedSession(page) {
  return page.evaluate(() => {
    const raw = localStorage.getItem('property.session')
    if (!raw) {
      return null
    }
    const value = JSON.parse(raw)
    return value && value.data !== undefined ? value.data : value
  })
}

export async function signInAs(page, account) {
  await page.goto(APP)
  await see(page, '开发登录')
  const row = page.locator('.account').filter({ hasText: account.name })
    .filter({ hasText: account.phone || '' }).first()
  await row.click()
  await see(page, `您好，${account.name}`)
}

export async function signOut(page) {
  await page.evaluate(() => localStorage.clear())
}
