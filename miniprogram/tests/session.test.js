// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import { installFakeUni } from './fake-uni.js'
import {
  SESSION_KEY, clearSession, getSession, getToken, getUser, isSignedIn,
  saveSession, saveUser,
} from '../src/api/session.js'

let uni

beforeEach(() => {
  uni = installFakeUni()
})

describe('session', () => {
  it('is empty before any sign-in', () => {
    expect(getSession()).toBe(null)
    expect(getToken()).toBe(null)
    expect(isSignedIn()).toBe(false)
  })

  it('keeps the token, expiry and account of a sign-in in uni storage', () => {
    const user = { id: 7, name: '王小明', role: 'guest' }
    saveSession({ token: 'tok-1', expires_at: '2999-01-01T00:00:00Z', user })
    expect(uni.storage.get(SESSION_KEY)).toEqual({
      token: 'tok-1', expires_at: '2999-01-01T00:00:00Z', user })
    expect(getToken()).toBe('tok-1')
    expect(getUser()).toEqual(user)
    expect(isSignedIn()).toBe(true)
  })

  it('refuses a sign-in answer without token', () => {
    expect(() => saveSession({ user: {} })).toThrow()
    expect(isSignedIn()).toBe(false)
  })

  it('updates the cached account', () => {
    saveSession({ token: 'tok-1', user: { id: 7, role: 'guest' } })
    saveUser({ id: 7, role: 'merchant' })
    expect(getUser().role).toBe('merchant')
    expect(getToken()).toBe('tok-1')
  })

  it('does not create a session when updating the account signed out', () => {
    saveUser({ id: 7 })
    expect(isSignedIn()).toBe(false)
  })

  it('forgets an expired session', () => {
    saveSession({ token: 'old', expires_at: '2000-01-01T00:00:00Z' })
    expect(getToken()).toBe(null)
    expect(uni.storage.has(SESSION_KEY)).toBe(false)
  })

  it('ignores garbage in storage', () => {
    uni.storage.set(SESSION_KEY, 'not a session')
    expect(getSession()).toBe(null)
    uni.storage.set(SESSION_KEY, { user: {} })
    expect(getSession()).toBe(null)
  })

  it('clears the session', () => {
    saveSession({ token: 'tok-1' })
    clearSession()
    expect(isSignedIn()).toBe(false)
    expect(uni.storage.size).toBe(0)
  })
})
