// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import jsQR from 'jsqr'
import { installFakeUni, json, wait } from './fake-uni.js'
import {
  applicationBody, batchBody, checkApplication, checkBatch, checkInvitation,
  checkPlate, checkWindow, codeRefreshDelay, defaultCodeMode, defaultWindow,
  errorField, hubEntries, invitationBody, localDate, shareLink, sharePath,
  windowBody,
} from '../src/common/visitor.js'
import { QUIET_ZONE, moduleSize, qrMatrix, qrRuns } from '../src/common/qr.js'
import { createPager, hasMore, loadPage } from '../src/common/pager.js'
import { menuFor } from '../src/common/menu.js'
import { saveSession } from '../src/api/session.js'
import {
  applyVisit, hostVisits, issueCard, passCode, passImage, rejectVisit,
} from '../src/api/visitor.js'

// 2025-03-10 09:30:20 local time
const NOW = new Date(2025, 2, 10, 9, 30, 20)
const window = (startDate, startTime, endDate, endTime) => (
  { startDate, startTime, endDate, endTime })

describe('visitor hub', () => {
  const entries = (capabilities) => hubEntries({ capabilities }).map((e) => e.title)

  it('shows a merchant or tenant the host entries and the application', () => {
    expect(entries(['visitor.invite', 'visit.apply', 'bill.pay'])).toEqual(
      ['邀请访客', '访客记录与审批', '批量访客卡', '申请来访', '我的来访'])
  })

  it('shows a guest the application only', () => {
    expect(entries(['visit.apply'])).toEqual(['申请来访', '我的来访'])
  })

  it('shows a technician the check-in first', () => {
    expect(entries(['visit.apply', 'technician.passage'])).toEqual(
      ['出入登记', '申请来访', '我的来访'])
  })

  it('shows nothing without an account', () => {
    expect(hubEntries(null)).toEqual([])
  })

  it('is what the home menu entry 来访登记 opens', () => {
    const [entry] = menuFor({ capabilities: ['visit.apply'], modules: ['property_visitor'] })
    expect(entry.title).toBe('来访登记')
    expect(entry.url).toBe('/pages/visitor/index')
  })
})

describe('time window', () => {
  it('starts now to the minute and lasts four hours', () => {
    expect(defaultWindow(NOW)).toEqual(window('2025-03-10', '09:30', '2025-03-10', '13:30'))
  })

  it('crosses midnight', () => {
    expect(defaultWindow(new Date(2025, 11, 31, 22, 5), 4)).toEqual(
      window('2025-12-31', '22:05', '2026-01-01', '02:05'))
  })

  it('reads the pickers as local time', () => {
    expect(localDate('2025-03-10', '09:30')).toEqual(new Date(2025, 2, 10, 9, 30))
    expect(localDate('2025-03-10', '')).toBe(null)
    expect(localDate('10/03/2025', '09:30')).toBe(null)
  })

  it('accepts a window that ends in the future', () => {
    expect(checkWindow(window('2025-03-10', '09:00', '2025-03-10', '18:00'), NOW)).toEqual({})
  })

  it('asks for missing dates', () => {
    expect(checkWindow(window('', '', '2025-03-10', ''), NOW)).toEqual(
      { valid_from: '请选择到访时间', valid_to: '请选择离开时间' })
  })

  it('refuses an end before the start', () => {
    expect(checkWindow(window('2025-03-10', '18:00', '2025-03-10', '18:00'), NOW)).toEqual(
      { valid_to: '离开时间须晚于到访时间' })
  })

  it('refuses a window that is over', () => {
    expect(checkWindow(window('2025-03-10', '08:00', '2025-03-10', '09:30'), NOW)).toEqual(
      { valid_to: '离开时间已过，请重新选择' })
  })

  it('refuses a window longer than 31 days', () => {
    expect(checkWindow(window('2025-03-10', '09:00', '2025-04-10', '09:01'), NOW)).toEqual(
      { valid_to: '来访时段不能超过31天' })
    expect(checkWindow(window('2025-03-10', '09:00', '2025-04-10', '09:00'), NOW)).toEqual({})
  })

  it('sends the window in UTC with its offset', () => {
    const body = windowBody(window('2025-03-10', '09:00', '2025-03-10', '18:00'))
    expect(body.valid_from).toBe(new Date(2025, 2, 10, 9, 0).toISOString())
    expect(body.valid_to).toMatch(/Z$/)
  })
})

describe('visitor forms', () => {
  const invitation = () => ({
    visitor_name: ' 李访客 ', visitor_phone: '13700001111', purpose: ' 洽谈 ',
    plate: '粤b 12345', window: window('2025-03-10', '09:00', '2025-03-10', '18:00'),
    unit: { id: 7, code: 'A-101' },
  })

  it('accepts an invitation and builds its body', () => {
    expect(checkInvitation(invitation(), NOW)).toEqual({})
    expect(invitationBody(invitation())).toEqual({
      visitor_name: '李访客', visitor_phone: '13700001111', purpose: '洽谈',
      plate: '粤B12345', unit: 7,
      ...windowBody(invitation().window),
    })
  })

  it('leaves out the optional fields left empty', () => {
    const body = invitationBody({ ...invitation(), purpose: ' ', plate: '', unit: null })
    expect(Object.keys(body).sort()).toEqual(
      ['valid_from', 'valid_to', 'visitor_name', 'visitor_phone'])
  })

  it('names every wrong field of an invitation', () => {
    const errors = checkInvitation({
      ...invitation(), visitor_name: '', visitor_phone: '123', plate: '粤B1',
      purpose: 'x'.repeat(121), window: window('2025-03-10', '09:00', '2025-03-10', '08:00'),
    }, NOW)
    expect(errors).toEqual({
      visitor_name: '请填写姓名', visitor_phone: '请填写11位手机号',
      plate: '车牌号应为5至12位，如 粤B12345', purpose: '来访事由不能超过120个字',
      valid_to: '离开时间须晚于到访时间',
    })
  })

  it('checks plates as the API does', () => {
    expect(checkPlate('')).toBe(null)
    expect(checkPlate('粤B·12345')).toBe(null)
    expect(checkPlate('京A 1234')).toBe(null)
    expect(checkPlate('京A1')).not.toBe(null)
    expect(checkPlate('1234567890123')).not.toBe(null)
  })

  it('needs a unit to apply and takes an optional host phone', () => {
    const form = { ...invitation(), unit: null, host_phone: '138' }
    expect(checkApplication(form, NOW)).toEqual(
      { unit: '请选择要拜访的房间', host_phone: '请填写11位手机号' })
    const good = { ...invitation(), host_phone: ' 13800138000 ' }
    expect(checkApplication(good, NOW)).toEqual({})
    expect(applicationBody(good)).toMatchObject({ unit: 7, host_phone: '13800138000' })
    expect(applicationBody({ ...good, host_phone: '' })).not.toHaveProperty('host_phone')
  })

  it('checks a card batch', () => {
    const form = { group_name: ' 供应商大会 ', quantity: '30', purpose: '',
      window: window('2025-03-10', '09:00', '2025-03-11', '18:00') }
    expect(checkBatch(form, NOW)).toEqual({})
    expect(batchBody(form)).toEqual({
      group_name: '供应商大会', quantity: 30, ...windowBody(form.window) })
    expect(checkBatch({ ...form, group_name: '', quantity: '0' }, NOW)).toEqual(
      { group_name: '请填写团体名称', quantity: '请填写卡片数量' })
    expect(checkBatch({ ...form, quantity: '501' }, NOW).quantity).toBe('一次最多申请500张')
    expect(checkBatch({ ...form, quantity: '2.5' }, NOW).quantity).toBe('请填写卡片数量')
  })

  it('puts an API error on the field it names', () => {
    expect(errorField({ field: 'valid_to' }, ['valid_to'])).toBe('valid_to')
    expect(errorField({ field: 'unit' }, ['valid_to'])).toBe(null)
    expect(errorField({ field: null }, ['unit'])).toBe(null)
  })
})

describe('rotating code', () => {
  const code = (notBefore, refresh) => ({
    token: 'PV1.x', not_before: new Date(notBefore).toISOString(),
    expires_at: new Date(notBefore + 60000).toISOString(),
    refresh_at: new Date(refresh).toISOString(),
  })
  const T = Date.UTC(2025, 2, 10, 1, 30, 0)

  it('fetches the next code two seconds before refresh_at', () => {
    expect(codeRefreshDelay(code(T, T + 30000), T + 10000)).toBe(18000)
  })

  it('trusts the period over a phone clock that is behind', () => {
    // the phone is 5 minutes late: wait at most one period
    expect(codeRefreshDelay(code(T, T + 30000), T - 300000)).toBe(28000)
  })

  it('does not spin with a phone clock that is ahead', () => {
    expect(codeRefreshDelay(code(T, T + 30000), T + 300000)).toBe(1000)
    expect(codeRefreshDelay(code(T, T + 30000), T + 29500)).toBe(1000)
  })

  it('retries soon on an answer without refresh time', () => {
    expect(codeRefreshDelay({}, T)).toBe(5000)
    expect(codeRefreshDelay(null, T)).toBe(5000)
  })

  it('shows the host the static code and the visitor the rotating one', () => {
    expect(defaultCodeMode({ share_key: 'k' })).toBe('static')
    expect(defaultCodeMode({ share_key: null })).toBe('rotating')
  })
})

describe('share link', () => {
  it('opens the share page with the key', () => {
    expect(sharePath('a-b_c')).toBe('/pages/visitor/shared?key=a-b_c')
    expect(shareLink('https://wy.example.cn/m/#/pages/visitor/pass?id=3', 'K1'))
      .toBe('https://wy.example.cn/m/#/pages/visitor/shared?key=K1')
    expect(shareLink('http://127.0.0.1:8000/m/', 'K1'))
      .toBe('http://127.0.0.1:8000/m/#/pages/visitor/shared?key=K1')
  })
})

describe('QR code', () => {
  // a token of the pass format: "PV1." + 128 base64url characters
  const TOKEN = `PV1.${'AQIDBAUGBwgJCgsMDQ4PEBESExQVFhcYGRobHB0eHyAhIiMkJSYnKCkqKywtLi8w'.repeat(2)}`

  // Draws the matrix as RGBA pixels, as the page does, for a QR reader.
  function render(matrix, cell = 4) {
    const size = (matrix.length + 2 * QUIET_ZONE) * cell
    const pixels = new Uint8ClampedArray(size * size * 4).fill(255)
    matrix.forEach((row, r) => row.forEach((dark, c) => {
      if (!dark) {
        return
      }
      for (let y = 0; y < cell; y += 1) {
        for (let x = 0; x < cell; x += 1) {
          const i = (((r + QUIET_ZONE) * cell + y) * size + (c + QUIET_ZONE) * cell + x) * 4
          pixels[i] = pixels[i + 1] = pixels[i + 2] = 0
        }
      }
    }))
    return { pixels, size }
  }

  it('encodes a pass token in a version 8 code that reads back', () => {
    expect(TOKEN).toHaveLength(132)
    const matrix = qrMatrix(TOKEN)
    expect(matrix).toHaveLength(49)
    const { pixels, size } = render(matrix)
    expect(jsQR(pixels, size, size).data).toBe(TOKEN)
  })

  it('merges runs of modules without losing any', () => {
    const matrix = qrMatrix(TOKEN)
    const runs = qrRuns(matrix)
    runs.forEach((row, r) => {
      expect(row.reduce((sum, run) => sum + run.span, 0)).toBe(49)
      const expanded = row.flatMap((run) => Array(run.span).fill(run.dark))
      expect(expanded).toEqual(matrix[r])
    })
    // the finder pattern: 7 dark, 1 light, ...
    expect(runs[0][0]).toEqual({ dark: true, span: 7 })
    expect(runs[0][1]).toEqual({ dark: false, span: 1 })
  })

  it('draws whole pixels per module', () => {
    expect(moduleSize(49, 292)).toBe(5)
    expect(moduleSize(49, 100)).toBe(2)
  })
})

describe('list pages', () => {
  it('reads page after page until the total', async () => {
    const pager = createPager()
    const all = Array.from({ length: 25 }, (_, i) => ({ id: i }))
    const fetch = async ({ offset, limit }) => ({
      items: all.slice(offset, offset + limit), total: all.length })
    await loadPage(pager, fetch, { reset: true })
    expect(pager.items).toHaveLength(20)
    expect(hasMore(pager)).toBe(true)
    await loadPage(pager, fetch)
    expect(pager.items).toHaveLength(25)
    expect(hasMore(pager)).toBe(false)
    await loadPage(pager, fetch)
    expect(pager.items).toHaveLength(25)
  })

  it('drops an answer that comes after the filter changed', async () => {
    const pager = createPager()
    let release
    const slow = () => new Promise((resolve) => { release = resolve })
    const first = loadPage(pager, slow, { reset: true })
    await loadPage(pager, async () => ({ items: [{ id: 'new' }], total: 1 }), { reset: true })
    release({ items: [{ id: 'old' }], total: 1 })
    await first
    expect(pager.items).toEqual([{ id: 'new' }])
    expect(pager.loading).toBe(false)
  })

  it('keeps the error message of a failed page', async () => {
    const pager = createPager()
    await loadPage(pager, async () => { throw new Error('网络连接失败') }, { reset: true })
    expect(pager.error).toBe('网络连接失败')
    expect(pager.loading).toBe(false)
  })
})

describe('visitor calls', () => {
  let uni

  beforeEach(() => {
    uni = installFakeUni()
    saveSession({ token: 'tok-7' })
  })

  it('lists the host visits of a state', async () => {
    uni.respond = () => json(200, { items: [], total: 0 })
    await hostVisits({ state: 'requested', limit: 1 })
    expect(uni.requests[0].url).toBe('/demo/api/v1/host/visits?state=requested&offset=0&limit=1')
    await hostVisits()
    expect(uni.requests[1].url).toBe('/demo/api/v1/host/visits?offset=0&limit=20')
  })

  it('sends an application and a rejection reason', async () => {
    uni.respond = () => json(201, { id: 3 })
    await applyVisit({ unit: 5 })
    expect(uni.requests[0].method).toBe('POST')
    expect(JSON.parse(uni.requests[0].data)).toEqual({ unit: 5 })
    await rejectVisit(3, '时间冲突')
    expect(uni.requests[1].url).toBe('/demo/api/v1/host/visits/3/reject')
    expect(JSON.parse(uni.requests[1].data)).toEqual({ reason: '时间冲突' })
    await issueCard(4)
    expect(JSON.parse(uni.requests[2].data)).toEqual({})
  })

  it('gets the rotating code with the session token', async () => {
    uni.respond = () => json(200, { token: 'PV1.a' })
    expect(await passCode(9)).toEqual({ token: 'PV1.a' })
    expect(uni.requests[0].url).toBe('/demo/api/v1/passes/9/code')
    expect(uni.requests[0].header.Authorization).toBe('Bearer tok-7')
  })

  it('downloads the static QR image with the session token', async () => {
    uni.downloadFile = (options) => {
      uni.requests.push(options)
      setTimeout(() => options.success({ statusCode: 200, tempFilePath: 'blob:qr' }), 0)
    }
    expect(await passImage(9)).toBe('blob:qr')
    expect(uni.requests[0].url).toBe('/demo/api/v1/passes/9/qr.png?mode=static&scale=10')
    expect(uni.requests[0].header.Authorization).toBe('Bearer tok-7')
  })

  it('turns a refused download into the API error', async () => {
    uni.downloadFile = (options) => {
      setTimeout(() => options.success({ statusCode: 409, tempFilePath: '' }), 0)
    }
    await expect(passImage(9)).rejects.toMatchObject({ status: 409 })
    await wait()
  })
})
