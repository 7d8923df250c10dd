// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { describe, expect, it } from 'vitest'
import {
  certificationBody, certificationView, checkCertification, checkName,
  checkPhone,
} from '../src/common/validate.js'
import {
  certificationLabel, formatDateTime, maskPhone, roleLabel, unitDetail, unitLabel,
} from '../src/common/labels.js'

const UNIT = { id: 11, code: 'A1-0101', type: 'shop', floor: 1, area: '85.5',
  estate: '阳光园区', building: 'A1栋' }
const valid = () => ({ name: ' 王小明 ', phone: '13800138000', role: 'merchant',
  units: [UNIT], photos: [{ id: 4, path: 'blob:1' }] })

describe('certification form', () => {
  it('accepts a complete form and builds the API body', () => {
    expect(checkCertification(valid())).toEqual({})
    expect(certificationBody(valid())).toEqual({
      name: '王小明', phone: '13800138000', role: 'merchant', units: [11],
      photos: [4] })
  })

  it('names every missing field', () => {
    const errors = checkCertification({ name: ' ', phone: '', role: '', units: [] })
    expect(errors).toEqual({
      name: '请填写姓名', phone: '请填写手机号', role: '请选择认证身份',
      units: '请至少选择一个房间' })
  })

  it('refuses a wrong phone number and too many units or photos', () => {
    const form = valid()
    form.phone = '12345'
    form.units = Array.from({ length: 21 }, (_, i) => ({ id: i + 1 }))
    form.photos = Array.from({ length: 7 }, (_, i) => ({ id: i + 1 }))
    expect(checkCertification(form)).toEqual({
      phone: '请填写11位手机号', units: '最多选择20个房间',
      photos: '最多上传6张照片' })
  })

  it('checks name and optional phone on the profile', () => {
    expect(checkName('a'.repeat(61))).toBe('姓名不能超过60个字')
    expect(checkPhone('', { required: false })).toBe(null)
    expect(checkPhone('10000000000')).toBe('请填写11位手机号')
  })
})

describe('certification page state', () => {
  const guest = { role: 'guest' }
  it('shows the form to a guest who never asked', () => {
    expect(certificationView(guest, null)).toBe('form')
  })
  it('shows the pending state while a request waits', () => {
    expect(certificationView(guest, { state: 'pending' })).toBe('pending')
  })
  it('shows the reason of a rejection, then the form again', () => {
    const rejected = { state: 'rejected', reject_reason: '照片不清晰' }
    expect(certificationView(guest, rejected)).toBe('rejected')
    expect(certificationView(guest, rejected, { renew: true })).toBe('form')
  })
  it('shows the new role once approved', () => {
    expect(certificationView({ role: 'merchant' }, { state: 'approved' }))
      .toBe('certified')
    expect(certificationView({ role: 'tenant' }, null)).toBe('certified')
  })
  it('tells a technician there is nothing to certify', () => {
    expect(certificationView({ role: 'technician' }, null)).toBe('technician')
  })
  it('waits for the account', () => {
    expect(certificationView(null, null)).toBe('loading')
  })
})

describe('labels', () => {
  it('names roles and certification states in Chinese', () => {
    expect(roleLabel('guest')).toBe('游客')
    expect(roleLabel('technician')).toBe('维修师傅')
    expect(certificationLabel(null)).toBe('未认证')
    expect(certificationLabel({ state: 'pending' })).toBe('审核中')
    expect(certificationLabel({ state: 'rejected' })).toBe('未通过')
  })
  it('describes a unit', () => {
    expect(unitLabel(UNIT)).toBe('阳光园区 · A1栋 · A1-0101')
    expect(unitDetail(UNIT)).toBe('商铺 · 1层 · 85.50㎡')
    expect(unitDetail({ type: 'office', floor: null, area: null })).toBe('办公')
  })
  it('shows the UTC timestamps of the server in local time', () => {
    const local = (iso) => {
      const d = new Date(iso)
      const pad = (n) => String(n).padStart(2, '0')
      return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} `
        + `${pad(d.getHours())}:${pad(d.getMinutes())}`
    }
    expect(formatDateTime('2026-03-01T08:30:00')).toBe(local('2026-03-01T08:30:00Z'))
    expect(formatDateTime('2026-03-01T08:30:00.123456')).toBe(local('2026-03-01T08:30:00Z'))
    expect(formatDateTime('2026-03-01T08:30:00+08:00')).toBe(local('2026-03-01T00:30:00Z'))
    expect(formatDateTime(null)).toBe('')
  })

  it('masks a phone number', () => {
    expect(maskPhone('13800138000')).toBe('138****8000')
    expect(maskPhone('')).toBe('')
  })
})
