// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import { installFakeUni, json, wait } from './fake-uni.js'
import { clearSession, saveSession } from '../src/api/session.js'
import { cancelMyVisit, hostVisits, invite, myVisit } from '../src/api/visitor.js'
import {
  checkInvitation, defaultWindow, invitationBody,
} from '../src/common/visitor.js'
import {
  confirm, formPage, listPage, signedIn, visitPage,
} from '../src/common/visitor-pages.js'

// A page made of a mixin and the page's own data and methods, as Vue merges
// them: data and methods on the instance, computed as getters, hooks called
// by name (the mixin's first, then the page's).
function mount(mixin, own = {}) {
  const vm = { ...mixin.data(), ...(own.data ? own.data() : {}) }
  for (const [name, method] of Object.entries({ ...mixin.methods, ...own.methods })) {
    vm[name] = method.bind(vm)
  }
  for (const [name, get] of Object.entries(mixin.computed || {})) {
    Object.defineProperty(vm, name, { get: get.bind(vm) })
  }
  vm.hook = (name, ...args) => [mixin[name], own[name]]
    .filter(Boolean).map((hook) => hook.call(vm, ...args))[0]
  return vm
}

let uni

beforeEach(() => {
  uni = installFakeUni()
  saveSession({ token: 'tok-7' })
})

describe('signing in', () => {
  it('lets a signed-in account stay', () => {
    expect(signedIn()).toBe(true)
    expect(uni.navigations).toEqual([])
  })

  it('sends an account without session to the sign-in page', () => {
    clearSession()
    expect(signedIn()).toBe(false)
    expect(uni.navigations).toEqual([{ type: 'reLaunch', url: '/pages/login/login' }])
  })
})

describe('confirmation', () => {
  it('resolves to the answer of the modal', async () => {
    expect(await confirm('取消来访', '确定取消来访吗？')).toBe(true)
    expect(uni.modals[0]).toMatchObject({ title: '取消来访', content: '确定取消来访吗？' })
    uni.confirm = false
    expect(await confirm('撤回申请', '确定撤回申请吗？')).toBe(false)
  })

  it('resolves to false when the modal fails', async () => {
    uni.showModal = (options) => options.fail()
    expect(await confirm('拒绝来访', '确定拒绝吗？')).toBe(false)
  })
})

describe('list page', () => {
  const visits = Array.from({ length: 25 }, (_, i) => ({ id: i + 1 }))
  let asked
  const fetchList = async ({ state, offset, limit }) => {
    asked.push({ state, offset, limit })
    return { items: visits.slice(offset, offset + limit), total: visits.length }
  }

  beforeEach(() => {
    asked = []
  })

  it('opens on the tab of the address and reads it on show', async () => {
    const page = mount(listPage(fetchList))
    page.hook('onLoad', { state: 'requested' })
    expect(page.state).toBe('requested')
    page.hook('onShow')
    await wait()
    expect(asked).toEqual([{ state: 'requested', offset: 0, limit: 20 }])
    expect(page.pager.items).toHaveLength(20)
  })

  it('opens on every state without a tab in the address', () => {
    const page = mount(listPage(fetchList))
    page.hook('onLoad', {})
    expect(page.state).toBe('')
  })

  it('asks the API for the visits of the state', async () => {
    uni.respond = () => json(200, { items: [{ id: 3 }], total: 1 })
    const page = mount(listPage(hostVisits))
    page.hook('onLoad', { state: 'requested' })
    page.hook('onShow')
    await wait()
    expect(uni.requests[0].url).toBe('/demo/api/v1/host/visits?state=requested&offset=0&limit=20')
    expect(page.pager.items).toEqual([{ id: 3 }])
  })

  it('reads nothing without session but sends to sign-in', async () => {
    clearSession()
    const page = mount(listPage(fetchList))
    page.hook('onLoad', {})
    page.hook('onShow')
    await wait()
    expect(asked).toEqual([])
    expect(uni.navigations).toEqual([{ type: 'reLaunch', url: '/pages/login/login' }])
  })

  it('reads the next page at the bottom and all again on pull-down', async () => {
    const page = mount(listPage(fetchList))
    page.hook('onLoad', {})
    await page.reload()
    page.hook('onReachBottom')
    await wait()
    expect(page.pager.items).toHaveLength(25)
    await page.hook('onPullDownRefresh')
    await wait()
    expect(asked.map((a) => a.offset)).toEqual([0, 20, 0])
    expect(page.pager.items).toHaveLength(20)
    expect(uni.pullDownStopped).toBe(1)
  })

  it('starts again from the first page on another tab', async () => {
    const page = mount(listPage(fetchList))
    page.hook('onLoad', {})
    await page.reload()
    page.setState('approved')
    expect(page.pager.items).toEqual([])
    expect(page.pager.loaded).toBe(false)
    await wait()
    expect(asked.at(-1)).toEqual({ state: 'approved', offset: 0, limit: 20 })
    expect(page.pager.items).toHaveLength(20)
  })
})

describe('visit page', () => {
  const requested = { id: 7, state: 'requested', pass: null }
  const approved = { id: 7, state: 'approved', pass: { id: 11, state: 'active' } }

  it('reads the visit of the address on show', async () => {
    uni.respond = () => json(200, requested)
    const page = mount(visitPage(myVisit))
    page.hook('onLoad', { id: '7' })
    page.hook('onShow')
    expect(page.loading).toBe(true)
    await wait()
    expect(uni.requests[0].url).toBe('/demo/api/v1/visits/mine/7')
    expect(page.visit).toEqual(requested)
    expect(page.loading).toBe(false)
  })

  it('shows why the visit could not be read', async () => {
    uni.respond = () => json(404, { error: { code: 'not_found', message: '来访记录不存在' } })
    const page = mount(visitPage(myVisit))
    page.hook('onLoad', { id: '7' })
    await page.load()
    expect(page.visit).toBe(null)
    expect(page.error).toBe('来访记录不存在')
  })

  it('may cancel a visit until its pass is used', () => {
    const page = mount(visitPage(myVisit))
    expect(page.cancellable).toBe(false)
    page.visit = requested
    expect(page.cancellable).toBe(true)
    page.visit = approved
    expect(page.cancellable).toBe(true)
    page.visit = { ...approved, pass: { id: 11, state: 'used' } }
    expect(page.cancellable).toBe(false)
    page.visit = { ...approved, state: 'completed' }
    expect(page.cancellable).toBe(false)
  })

  it('shows the answer of an action with a toast', async () => {
    uni.respond = () => json(200, { ...requested, state: 'cancelled' })
    const page = mount(visitPage(myVisit))
    page.hook('onLoad', { id: '7' })
    const done = page.act(() => cancelMyVisit(page.id), '已取消')
    expect(page.busy).toBe(true)
    await done
    expect(uni.requests[0].url).toBe('/demo/api/v1/visits/mine/7/cancel')
    expect(page.visit.state).toBe('cancelled')
    expect(page.busy).toBe(false)
    expect(uni.toasts).toEqual([{ title: '已取消', icon: 'none' }])
  })

  it('keeps the visit and shows the refusal of an action', async () => {
    uni.respond = () => json(409, { error: { code: 'state', message: '该来访已取消' } })
    const page = mount(visitPage(myVisit))
    page.hook('onLoad', { id: '7' })
    page.visit = requested
    await page.act(() => cancelMyVisit(page.id), '已取消')
    await wait()
    expect(page.visit).toEqual(requested)
    expect(page.error).toBe('该来访已取消')
    expect(uni.requests).toHaveLength(1)
    expect(uni.toasts).toEqual([])
  })

  it('reads the visit again after a conflict when asked to', async () => {
    const answers = [
      json(409, { error: { code: 'state', message: '该来访已取消' } }),
      json(200, { ...requested, state: 'cancelled' }),
    ]
    uni.respond = () => answers.shift()
    const page = mount(visitPage(myVisit, { reloadOnConflict: true }))
    page.hook('onLoad', { id: '7' })
    page.visit = requested
    await page.act(() => cancelMyVisit(page.id), '已取消')
    await wait()
    expect(uni.requests.map((r) => r.url)).toEqual(
      ['/demo/api/v1/visits/mine/7/cancel', '/demo/api/v1/visits/mine/7'])
    expect(page.visit.state).toBe('cancelled')
    expect(page.error).toBe('')
  })

  it('opens the pass of the visit', () => {
    const page = mount(visitPage(myVisit))
    page.visit = approved
    page.openPass()
    expect(uni.navigations).toEqual([{ type: 'navigateTo', url: '/pages/visitor/pass?id=11' }])
  })
})

describe('form page', () => {
  let sent
  const invitationPage = () => mount(formPage({
    fields: ['visitor_name', 'visitor_phone', 'plate', 'purpose', 'valid_from', 'valid_to', 'unit'],
    check: checkInvitation,
    send: (form) => invite(invitationBody(form)),
    sent: (visit) => sent.push(visit),
  }), {
    data: () => ({
      form: {
        visitor_name: '', visitor_phone: '', purpose: '', plate: '',
        window: defaultWindow(), unit: { id: 5 },
      },
    }),
  })

  const filledPage = () => {
    const page = invitationPage()
    page.setField('visitor_name', '李访客')
    page.setField('visitor_phone', '13700001111')
    return page
  }

  beforeEach(() => {
    sent = []
  })

  it('sends an account without session to the sign-in page', () => {
    clearSession()
    invitationPage().hook('onLoad', {})
    expect(uni.navigations).toEqual([{ type: 'reLaunch', url: '/pages/login/login' }])
  })

  it('shows the checks of the form and sends nothing', async () => {
    const page = invitationPage()
    await page.submit()
    expect(page.errors).toMatchObject({ visitor_name: '请填写姓名', visitor_phone: '请填写手机号' })
    expect(uni.requests).toEqual([])
    expect(sent).toEqual([])
  })

  it('clears the message of a field once it is edited', async () => {
    const page = invitationPage()
    await page.submit()
    page.setField('visitor_name', '李访客')
    expect(page.form.visitor_name).toBe('李访客')
    expect(page.errors.visitor_name).toBe('')
    expect(page.errors.visitor_phone).toBe('请填写手机号')
    page.errors = { valid_to: '离开时间已过，请重新选择' }
    const window = defaultWindow(new Date(), 2)
    page.setWindow(window)
    expect(page.form.window).toEqual(window)
    expect(page.errors).toEqual({ valid_from: '', valid_to: '' })
  })

  it('sends the form and goes on with the answer', async () => {
    uni.respond = () => json(201, { id: 3, pass: { id: 9 } })
    const page = filledPage()
    const done = page.submit()
    expect(page.submitting).toBe(true)
    await done
    expect(uni.requests[0].url).toBe('/demo/api/v1/visits/invitations')
    expect(JSON.parse(uni.requests[0].data)).toMatchObject(
      { visitor_name: '李访客', visitor_phone: '13700001111', unit: 5 })
    expect(sent).toEqual([{ id: 3, pass: { id: 9 } }])
    expect(page.submitting).toBe(false)
  })

  it('shows a refusal of the API under the field it names', async () => {
    uni.respond = () => json(400, { error: { code: 'invalid', message: '车牌号无效', field: 'plate' } })
    const page = filledPage()
    await page.submit()
    expect(page.errors).toEqual({ plate: '车牌号无效' })
    expect(page.error).toBe('')
    expect(sent).toEqual([])
  })

  it('shows any other refusal over the form', async () => {
    uni.respond = () => json(403, { error: { code: 'forbidden', message: '您没有可接待访客的房间', field: 'host' } })
    const page = filledPage()
    await page.submit()
    expect(page.errors).toEqual({})
    expect(page.error).toBe('您没有可接待访客的房间')
    expect(page.submitting).toBe(false)
  })
})
