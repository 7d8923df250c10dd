// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The same limits the API checks, so the user hears about them before sending.
export const PHONE = /^1[3-9]\d{9}$/
export const MAX_UNITS = 20
export const MAX_PHOTOS = 6

export function checkName(name) {
  const value = (name || '').trim()
  if (!value) {
    return '请填写姓名'
  }
  if (value.length > 60) {
    return '姓名不能超过60个字'
  }
  return null
}

export function checkPhone(phone, { required = true } = {}) {
  const value = (phone || '').trim()
  if (!value) {
    return required ? '请填写手机号' : null
  }
  if (!PHONE.test(value)) {
    return '请填写11位手机号'
  }
  return null
}

// Returns {field: message} for the certification form, empty when valid.
export function checkCertification(form) {
  const errors = {}
  const name = checkName(form.name)
  if (name) {
    errors.name = name
  }
  const phone = checkPhone(form.phone)
  if (phone) {
    errors.phone = phone
  }
  if (!['merchant', 'tenant'].includes(form.role)) {
    errors.role = '请选择认证身份'
  }
  if (!form.units || !form.units.length) {
    errors.units = '请至少选择一个房间'
  } else if (form.units.length > MAX_UNITS) {
    errors.units = `最多选择${MAX_UNITS}个房间`
  }
  if ((form.photos || []).length > MAX_PHOTOS) {
    errors.photos = `最多上传${MAX_PHOTOS}张照片`
  }
  return errors
}

// The body of POST /certifications.
export function certificationBody(form) {
  return {
    name: form.name.trim(),
    phone: form.phone.trim(),
    role: form.role,
    units: form.units.map((unit) => unit.id),
    photos: (form.photos || []).map((photo) => photo.id),
  }
}

// Which state the certification page shows.
export function certificationView(user, certification, { renew = false } = {}) {
  if (!user) {
    return 'loading'
  }
  if (user.role === 'technician') {
    return 'technician'
  }
  if (certification && certification.state === 'pending') {
    return 'pending'
  }
  if (user.role === 'merchant' || user.role === 'tenant') {
    return 'certified'
  }
  if (certification && certification.state === 'rejected' && !renew) {
    return 'rejected'
  }
  return 'form'
}
