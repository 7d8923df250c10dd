// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The visitor pages' logic without UI: labels, the entries of the visitor
// hub, the forms (time window, invitation, application, card batch), the
// rotating code's refresh timing and the share link of a pass.
import { checkName, checkPhone } from './validate.js'

export const VISIT_STATES = {
  requested: '待审批',
  approved: '已通过',
  rejected: '已拒绝',
  cancelled: '已取消',
  expired: '已过期',
  completed: '已到访',
}

export const BATCH_STATES = {
  requested: '待物业审核',
  approved: '已批准',
  rejected: '已驳回',
  cancelled: '已取消',
  expired: '已过期',
}

export const PASS_STATES = {
  active: '有效',
  used: '已使用',
  revoked: '已作废',
  expired: '已过期',
}

export const PASSAGE_DIRECTIONS = { in: '进场', out: '离场' }

// The tabs of the visit lists: '' is every state.
export const VISIT_TABS = [
  { value: '', label: '全部' },
  { value: 'requested', label: '待审批' },
  { value: 'approved', label: '已通过' },
  { value: 'completed', label: '已到访' },
  { value: 'rejected', label: '已拒绝' },
  { value: 'cancelled', label: '已取消' },
  { value: 'expired', label: '已过期' },
]

export const BATCH_TABS = [
  { value: '', label: '全部' },
  { value: 'requested', label: '待审核' },
  { value: 'approved', label: '已批准' },
  { value: 'rejected', label: '已驳回' },
  { value: 'cancelled', label: '已取消' },
  { value: 'expired', label: '已过期' },
]

// The tag colour class of a state (classes of App.vue).
const STATE_CLASSES = {
  requested: 'tag-pending',
  approved: 'tag-approved',
  active: 'tag-approved',
  completed: 'tag-done',
  used: 'tag-done',
  rejected: 'tag-rejected',
  revoked: 'tag-rejected',
  cancelled: 'tag-muted',
  expired: 'tag-muted',
}

export function stateClass(state) {
  return STATE_CLASSES[state] || ''
}

export const PAGES = {
  hub: '/pages/visitor/index',
  invite: '/pages/visitor/invite',
  hostVisits: '/pages/visitor/host-visits',
  hostVisit: '/pages/visitor/host-visit',
  apply: '/pages/visitor/apply',
  myVisits: '/pages/visitor/my-visits',
  myVisit: '/pages/visitor/my-visit',
  pass: '/pages/visitor/pass',
  shared: '/pages/visitor/shared',
  batches: '/pages/visitor/batches',
  batchNew: '/pages/visitor/batch-new',
  batch: '/pages/visitor/batch',
  technician: '/pages/visitor/technician',
}

// The visitor hub: what each capability of ME lets the account do.
const HUB = [
  { key: 'invite', capability: 'visitor.invite', title: '邀请访客',
    description: '登记来访人，立即生成通行码', url: PAGES.invite, color: '#00b578' },
  { key: 'host-visits', capability: 'visitor.invite', title: '访客记录与审批',
    description: '查看邀请、审批来访申请', url: PAGES.hostVisits, color: '#1677ff' },
  { key: 'batches', capability: 'visitor.invite', title: '批量访客卡',
    description: '为团体申请访客卡，按需发放', url: PAGES.batches, color: '#7b61ff' },
  { key: 'apply', capability: 'visit.apply', title: '申请来访',
    description: '向商家或租客申请进入园区', url: PAGES.apply, color: '#ff8a00' },
  { key: 'my-visits', capability: 'visit.apply', title: '我的来访',
    description: '申请进度与我的通行证', url: PAGES.myVisits, color: '#13c2c2' },
  { key: 'technician', capability: 'technician.passage', title: '出入登记',
    description: '维修师傅进出园区登记', url: PAGES.technician, color: '#d46b08' },
]

export function hubEntries(user) {
  const capabilities = new Set((user && user.capabilities) || [])
  // the technician's own entry first: it is what a technician comes for
  const entries = HUB.filter((entry) => capabilities.has(entry.capability))
  return entries.sort((a, b) => (b.key === 'technician') - (a.key === 'technician'))
}

// --- dates: the pickers give local "YYYY-MM-DD" and "HH:MM" ---

const pad = (n) => String(n).padStart(2, '0')

export function dateText(date) {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`
}

export function timeText(date) {
  return `${pad(date.getHours())}:${pad(date.getMinutes())}`
}

// A local date and time of the pickers as a Date, or null.
export function localDate(day, time) {
  const d = /^(\d{4})-(\d{2})-(\d{2})$/.exec(day || '')
  const t = /^(\d{2}):(\d{2})$/.exec(time || '')
  if (!d || !t) {
    return null
  }
  const date = new Date(Number(d[1]), Number(d[2]) - 1, Number(d[3]),
    Number(t[1]), Number(t[2]))
  return Number.isNaN(date.getTime()) ? null : date
}

export const MAX_WINDOW_DAYS = 31
const HOUR = 3600 * 1000

// From now (to the minute, so the pass opens at once) for `hours` hours.
export function defaultWindow(now = new Date(), hours = 4) {
  const start = new Date(now.getTime())
  start.setSeconds(0, 0)
  const end = new Date(start.getTime() + hours * HOUR)
  return {
    startDate: dateText(start),
    startTime: timeText(start),
    endDate: dateText(end),
    endTime: timeText(end),
  }
}

// {valid_from, valid_to} messages for the window, empty when valid.
export function checkWindow(window, now = new Date()) {
  const errors = {}
  const start = localDate(window.startDate, window.startTime)
  const end = localDate(window.endDate, window.endTime)
  if (!start) {
    errors.valid_from = '请选择到访时间'
  }
  if (!end) {
    errors.valid_to = '请选择离开时间'
  }
  if (!start || !end) {
    return errors
  }
  if (end <= start) {
    errors.valid_to = '离开时间须晚于到访时间'
  } else if (end <= now) {
    errors.valid_to = '离开时间已过，请重新选择'
  } else if (end - start > MAX_WINDOW_DAYS * 24 * HOUR) {
    errors.valid_to = `来访时段不能超过${MAX_WINDOW_DAYS}天`
  }
  return errors
}

// The API's window: ISO 8601 in UTC (the API wants an offset).
export function windowBody(window) {
  return {
    valid_from: localDate(window.startDate, window.startTime).toISOString(),
    valid_to: localDate(window.endDate, window.endTime).toISOString(),
  }
}

// --- forms ---

const PLATE = /^[^\s]{5,12}$/

export function normalizePlate(plate) {
  return (plate || '').replace(/\s+/g, '').toUpperCase()
}

export function checkPlate(plate) {
  const value = normalizePlate(plate)
  if (value && !PLATE.test(value)) {
    return '车牌号应为5至12位，如 粤B12345'
  }
  return null
}

function checkText(value, max, label) {
  if ((value || '').trim().length > max) {
    return `${label}不能超过${max}个字`
  }
  return null
}

function collect(errors, field, message) {
  if (message) {
    errors[field] = message
  }
}

// The fields an invitation and an application share.
function checkVisitor(form, now) {
  const errors = {}
  collect(errors, 'visitor_name', checkName(form.visitor_name))
  collect(errors, 'visitor_phone', checkPhone(form.visitor_phone))
  collect(errors, 'plate', checkPlate(form.plate))
  collect(errors, 'purpose', checkText(form.purpose, 120, '来访事由'))
  return { ...errors, ...checkWindow(form.window, now) }
}

function visitorBody(form) {
  const body = {
    visitor_name: form.visitor_name.trim(),
    visitor_phone: form.visitor_phone.trim(),
    ...windowBody(form.window),
  }
  const purpose = (form.purpose || '').trim()
  if (purpose) {
    body.purpose = purpose
  }
  const plate = normalizePlate(form.plate)
  if (plate) {
    body.plate = plate
  }
  return body
}

export function checkInvitation(form, now = new Date()) {
  return checkVisitor(form, now)
}

// The body of POST /visits/invitations; without unit the API takes the
// host's first unit.
export function invitationBody(form) {
  const body = visitorBody(form)
  if (form.unit) {
    body.unit = form.unit.id
  }
  return body
}

export function checkApplication(form, now = new Date()) {
  const errors = checkVisitor(form, now)
  if (!form.unit) {
    errors.unit = '请选择要拜访的房间'
  }
  collect(errors, 'host_phone', checkPhone(form.host_phone, { required: false }))
  return errors
}

export function applicationBody(form) {
  const body = { ...visitorBody(form), unit: form.unit.id }
  const hostPhone = (form.host_phone || '').trim()
  if (hostPhone) {
    body.host_phone = hostPhone
  }
  return body
}

export const MAX_CARDS = 500

export function checkBatch(form, now = new Date()) {
  const errors = {}
  const group = (form.group_name || '').trim()
  if (!group) {
    errors.group_name = '请填写团体名称'
  } else if (group.length > 60) {
    errors.group_name = '团体名称不能超过60个字'
  }
  const quantity = String(form.quantity ?? '').trim()
  if (!/^\d+$/.test(quantity) || Number(quantity) < 1) {
    errors.quantity = '请填写卡片数量'
  } else if (Number(quantity) > MAX_CARDS) {
    errors.quantity = `一次最多申请${MAX_CARDS}张`
  }
  collect(errors, 'purpose', checkText(form.purpose, 120, '用途'))
  return { ...errors, ...checkWindow(form.window, now) }
}

export function batchBody(form) {
  const body = {
    group_name: form.group_name.trim(),
    quantity: Number(String(form.quantity).trim()),
    ...windowBody(form.window),
  }
  const purpose = (form.purpose || '').trim()
  if (purpose) {
    body.purpose = purpose
  }
  if (form.unit) {
    body.unit = form.unit.id
  }
  return body
}

// The form field an API error names (`field` of the error shape), if the
// form has it: "valid_to" -> "valid_to", "unit" -> "unit".
export function errorField(error, fields) {
  const field = error && error.field && String(error.field).split(/[.[]/)[0]
  return field && fields.includes(field) ? field : null
}

// --- the pass page ---

// ms until the next rotating code should be fetched: a little before
// `refresh_at`.  The phone's clock may be wrong: the server's time at the
// answer lies in [not_before, refresh_at), so the phone's time is moved into
// that interval first.
export function codeRefreshDelay(code, now = Date.now(), { lead = 2000, min = 1000 } = {}) {
  const refresh = Date.parse(code && code.refresh_at)
  if (Number.isNaN(refresh)) {
    return 5000
  }
  const notBefore = Date.parse(code.not_before)
  let serverNow = now
  if (!Number.isNaN(notBefore) && serverNow < notBefore) {
    serverNow = notBefore
  }
  if (serverNow > refresh) {
    serverNow = refresh
  }
  return Math.max(min, refresh - serverNow - lead)
}

// Which code a viewer sees first: the host shares the static one, the
// visitor shows the rotating one at the gate.
export function defaultCodeMode(pass) {
  return pass && pass.share_key ? 'static' : 'rotating'
}

export function sharePath(key) {
  return `${PAGES.shared}?key=${encodeURIComponent(key)}`
}

// The H5 link of the share page, from the address of the current page:
// "https://host/m/#/pages/visitor/pass?id=3" -> ".../m/#/pages/visitor/shared?key=K"
export function shareLink(href, key) {
  const base = String(href || '').split('#')[0]
  return `${base}#${sharePath(key)}`
}

export function gatesLabel(pass) {
  const gates = (pass && pass.gates) || []
  return gates.length ? gates.map((gate) => gate.name).join('、') : '园区全部门岗'
}
