// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The API calls of the account pages, all through the one client.
import { ApiError, api } from './client.js'
import { clearSession, saveSession, saveUser } from './session.js'

export async function signInWechat(code) {
  const data = await api.post('/auth/wechat', { code })
  saveSession(data)
  return data.user
}

export async function signInDev(accountId) {
  const data = await api.post('/auth/dev', { account_id: accountId })
  saveSession(data)
  return data.user
}

// null when the server has no development sign-in (404)
export async function devAccounts() {
  try {
    const data = await api.get('/auth/dev/accounts')
    return data.items || []
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null
    }
    throw error
  }
}

export async function signOut() {
  try {
    await api.post('/auth/logout')
  } finally {
    clearSession()
  }
}

export async function fetchMe() {
  const user = await api.get('/me')
  saveUser(user)
  return user
}

export async function updateMe(changes) {
  const user = await api.patch('/me', changes)
  saveUser(user)
  return user
}

// The phone number from WeChat's getPhoneNumber button (mini-program only)
export async function bindWechatPhone(code) {
  const user = await api.post('/me/phone', { code })
  saveUser(user)
  return user
}

export function searchUnits({ q = '', offset = 0, limit = 20 } = {}) {
  return api.get('/units', { q: q.trim(), offset, limit })
}

export function uploadPhoto(filePath) {
  return api.upload('/uploads', filePath, 'file')
}

export function submitCertification(body) {
  return api.post('/certifications', body)
}

// --- billing (property_billing) ---

export function listBills({ state, offset = 0, limit = 20 } = {}) {
  return api.get('/bills', { state, offset, limit })
}

// Every unpaid bill (an account has a few), for the total due.
export async function allUnpaidBills({ limit = 100, max = 1000 } = {}) {
  const items = []
  for (;;) {
    const data = await listBills({ state: 'unpaid', offset: items.length, limit })
    items.push(...data.items)
    if (!data.items.length || items.length >= data.total || items.length >= max) {
      return { items, total: data.total }
    }
  }
}

export function getBill(id) {
  return api.get(`/bills/${id}`)
}

// {payment, params}: the order of the bill and the wx.requestPayment params
export function payBill(id) {
  return api.post(`/bills/${id}/pay`)
}

// My payments with a receipt, the latest first: paid with WeChat Pay
// (method wechat_pay) and received by the finance system (finance).
export function listReceipts({ offset = 0, limit = 20 } = {}) {
  return api.get('/receipts', { offset, limit })
}

// The receipt at path (the `receipt` of a /receipts item) in a local file:
// format 'pdf', or 'html' for the printable page.
export function downloadReceipt(path, format = 'pdf') {
  return api.download(path, { format })
}

// A pending payment is confirmed with WeChat Pay by the server.
export function getPayment(id) {
  return api.get(`/payments/${id}`)
}

// {available, simulation}, or null when the server does not say (404).
export async function paymentConfig() {
  try {
    return await api.get('/payments/config')
  } catch (error) {
    if (error instanceof ApiError && error.status === 404) {
      return null
    }
    throw error
  }
}

// Only on a server whose WeChat Pay is the test fake: the fake pays the
// order as the user would and notifies the server.
export function simulatePayment(id) {
  return api.post(`/payments/${id}/simulate`)
}
