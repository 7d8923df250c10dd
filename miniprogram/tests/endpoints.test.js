// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import { installFakeUni, json } from './fake-uni.js'
import {
  devAccounts, fetchMe, signInDev, signOut,
} from '../src/api/endpoints.js'
import { getUser, isSignedIn, saveSession } from '../src/api/session.js'

let uni

beforeEach(() => {
  uni = installFakeUni()
})

const ME = { id: 5, name: '游客甲', role: 'guest', capabilities: [], modules: [] }

describe('account calls', () => {
  it('signs in with a development account and keeps the session', async () => {
    uni.respond = () => json(200, {
      token: 'tok-5', expires_at: '2999-01-01T00:00:00Z', user: ME })
    const user = await signInDev(5)
    expect(user).toEqual(ME)
    expect(JSON.parse(uni.requests[0].data)).toEqual({ account_id: 5 })
    expect(uni.requests[0].url).toBe('/demo/api/v1/auth/dev')
    expect(isSignedIn()).toBe(true)
    expect(getUser()).toEqual(ME)
  })

  it('lists development accounts', async () => {
    const items = [{ id: 1, name: '张三', role: 'merchant', phone: '13800000001' }]
    uni.respond = () => json(200, { items })
    expect(await devAccounts()).toEqual(items)
  })

  it('answers null when the server has no development sign-in', async () => {
    uni.respond = () => json(404, { error: {
      code: 'not_found', message: '未找到', field: null } })
    expect(await devAccounts()).toBe(null)
  })

  it('passes other errors of the account list on', async () => {
    uni.respond = () => json(503, { error: {
      code: 'busy', message: '服务器繁忙', field: null } })
    await expect(devAccounts()).rejects.toThrow('服务器繁忙')
  })

  it('refreshes the cached account from /me', async () => {
    saveSession({ token: 'tok-5', user: ME })
    uni.respond = () => json(200, { ...ME, role: 'merchant' })
    await fetchMe()
    expect(getUser().role).toBe('merchant')
  })

  it('forgets the session on sign-out even when the server fails', async () => {
    saveSession({ token: 'tok-5' })
    uni.respond = () => ({ fail: true })
    await signOut().catch(() => {})
    expect(uni.requests[0].url).toBe('/demo/api/v1/auth/logout')
    expect(isSignedIn()).toBe(false)
  })
})
