// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

export const ROLES = {
  guest: '游客',
  merchant: '商家',
  tenant: '租客',
  technician: '维修师傅',
}

export const CERTIFICATION_STATES = {
  pending: '审核中',
  approved: '已通过',
  rejected: '未通过',
  cancelled: '已取消',
}

export const UNIT_TYPES = {
  office: '办公',
  shop: '商铺',
  apartment: '住宅',
  parking: '车位',
  public: '公共区域',
}

export function roleLabel(role) {
  return ROLES[role] || role || ''
}

export function certificationLabel(certification) {
  if (!certification) {
    return '未认证'
  }
  return CERTIFICATION_STATES[certification.state] || certification.state
}

export function unitLabel(unit) {
  if (!unit) {
    return ''
  }
  return [unit.estate, unit.building, unit.code].filter(Boolean).join(' · ')
}

export function unitDetail(unit) {
  const parts = []
  if (unit.type) {
    parts.push(UNIT_TYPES[unit.type] || unit.type)
  }
  if (unit.floor !== null && unit.floor !== undefined && unit.floor !== '') {
    parts.push(`${unit.floor}层`)
  }
  if (unit.area !== null && unit.area !== undefined && unit.area !== '') {
    parts.push(`${Number(unit.area).toFixed(2)}㎡`)
  }
  return parts.join(' · ')
}

export function formatDateTime(value) {
  if (!value) {
    return ''
  }
  // The server's timestamps without zone are UTC (Tryton stores naive UTC).
  const text = String(value)
  const naive = /T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(text)
  const date = new Date(naive ? `${text}Z` : text)
  if (Number.isNaN(date.getTime())) {
    return String(value)
  }
  const pad = (n) => String(n).padStart(2, '0')
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} `
    + `${pad(date.getHours())}:${pad(date.getMinutes())}`
}

export function maskPhone(phone) {
  if (!phone || phone.length !== 11) {
    return phone || ''
  }
  return `${phone.slice(0, 3)}****${phone.slice(7)}`
}
