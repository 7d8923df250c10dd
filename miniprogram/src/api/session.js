// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The one place that knows where the session lives: uni storage, which is
// wx storage in the mini-program and localStorage in H5.
const KEY = 'property.session'

function read() {
  try {
    const value = uni.getStorageSync(KEY)
    if (value && typeof value === 'object' && value.token) {
      return value
    }
  } catch (e) {
    // unreadable storage is an absent session
  }
  return null
}

function expired(session, now = Date.now()) {
  if (!session.expires_at) {
    return false
  }
  const time = Date.parse(session.expires_at)
  return !Number.isNaN(time) && time <= now
}

export function getSession() {
  const session = read()
  if (session && expired(session)) {
    clearSession()
    return null
  }
  return session
}

export function getToken() {
  const session = getSession()
  return session ? session.token : null
}

export function isSignedIn() {
  return Boolean(getToken())
}

// `data` is the body of a sign-in response: {token, expires_at, user}
export function saveSession(data) {
  if (!data || !data.token) {
    throw new Error('a session needs a token')
  }
  const session = {
    token: data.token,
    expires_at: data.expires_at || null,
    user: data.user || null,
  }
  uni.setStorageSync(KEY, session)
  return session
}

export function getUser() {
  const session = getSession()
  return session ? session.user : null
}

// Keeps the cached account (ME) in step after /me answers.
export function saveUser(user) {
  const session = read()
  if (session) {
    session.user = user
    uni.setStorageSync(KEY, session)
  }
}

export function clearSession() {
  try {
    uni.removeStorageSync(KEY)
  } catch (e) {
    // nothing stored
  }
}

export const SESSION_KEY = KEY
