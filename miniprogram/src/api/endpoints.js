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
