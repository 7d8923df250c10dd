// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import { installFakeUni, json, wait } from './fake-uni.js'
import {
  ApiError, MESSAGES, buildQuery, createClient, errorMessage,
} from '../src/api/client.js'
import { isSignedIn, saveSession } from '../src/api/session.js'

let uni
let client

beforeEach(() => {
  uni = installFakeUni()
  client = createClient({ baseUrl: '/demo/api/v1', patch: true })
})

describe('requests', () => {
  it('sends the bearer token and parses the JSON answer', async () => {
    saveSession({ token: 'tok-1' })
    uni.respond = () => json(200, { id: 1, name: '王小明' })
    const me = await client.get('/me')
    expect(me).toEqual({ id: 1, name: '王小明' })
    const request = uni.requests[0]
    expect(request.url).toBe('/demo/api/v1/me')
    expect(request.method).toBe('GET')
    expect(request.header.Authorization).toBe('Bearer tok-1')
    expect(request.header['Accept-Language']).toBe('zh-CN')
  })

  it('sends no Authorization header when signed out', async () => {
    uni.respond = () => json(200, { items: [] })
    await client.get('/auth/dev/accounts')
    expect(uni.requests[0].header.Authorization).toBeUndefined()
  })

  it('encodes the query and leaves out empty parameters', async () => {
    uni.respond = () => json(200, { items: [], total: 0 })
    await client.get('/units', { q: 'A1 101', offset: 0, limit: 20, estate: '' })
    expect(uni.requests[0].url).toBe(
      '/demo/api/v1/units?q=A1%20101&offset=0&limit=20')
    expect(buildQuery({})).toBe('')
    expect(buildQuery(null)).toBe('')
  })

  it('sends a JSON body', async () => {
    uni.respond = () => json(201, { id: 3, state: 'pending' })
    const result = await client.post('/certifications', { name: '王小明' })
    expect(result.state).toBe('pending')
    const request = uni.requests[0]
    expect(request.method).toBe('POST')
    expect(request.header['Content-Type']).toBe('application/json')
    expect(JSON.parse(request.data)).toEqual({ name: '王小明' })
  })

  it('answers null for 204 No Content', async () => {
    uni.respond = () => json(204)
    expect(await client.post('/auth/logout')).toBe(null)
  })

  it('sends PATCH as is where the platform supports it', async () => {
    uni.respond = () => json(200, { id: 1 })
    await client.patch('/me', { name: '李四' })
    expect(uni.requests[0].method).toBe('PATCH')
    expect(uni.requests[0].header['X-HTTP-Method-Override']).toBeUndefined()
  })

  it('sends PATCH as POST with an override header in the mini-program', async () => {
    const mp = createClient({ baseUrl: '/demo/api/v1', patch: false })
    uni.respond = () => json(200, { id: 1 })
    await mp.patch('/me', { name: '李四' })
    expect(uni.requests[0].method).toBe('POST')
    expect(uni.requests[0].header['X-HTTP-Method-Override']).toBe('PATCH')
  })
})

describe('errors', () => {
  it('throws the JSON error shape as ApiError', async () => {
    saveSession({ token: 'tok-1' })
    uni.respond = () => json(422, { error: {
      code: 'invalid', message: '手机号格式不正确', field: 'phone' } })
    const error = await client.patch('/me', { phone: '123' }).catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(422)
    expect(error.code).toBe('invalid')
    expect(error.message).toBe('手机号格式不正确')
    expect(error.field).toBe('phone')
    expect(errorMessage(error)).toBe('手机号格式不正确')
    expect(isSignedIn()).toBe(true)
    expect(uni.navigations).toEqual([])
  })

  it('keeps a 409 conflict message', async () => {
    uni.respond = () => json(409, { error: {
      code: 'conflict', message: '已有待审核的认证申请', field: null } })
    const error = await client.post('/certifications', {}).catch((e) => e)
    expect(error.status).toBe(409)
    expect(error.field).toBe(null)
    expect(error.message).toBe('已有待审核的认证申请')
  })

  it('explains an answer that is not the error shape', async () => {
    uni.respond = () => ({ statusCode: 500, data: '<html>Internal Server Error</html>' })
    const error = await client.get('/me').catch((e) => e)
    expect(error).toBeInstanceOf(ApiError)
    expect(error.status).toBe(500)
    expect(error.code).toBe('http_500')
    expect(error.message).toBe(`${MESSAGES.server}（500）`)
  })

  it('reports a network failure', async () => {
    uni.respond = () => ({ fail: true })
    const error = await client.get('/me').catch((e) => e)
    expect(error.status).toBe(0)
    expect(error.code).toBe('network')
    expect(error.message).toBe(MESSAGES.network)
  })

  it('rejects a success answer that is not JSON', async () => {
    uni.respond = () => ({ statusCode: 200, data: '<html>' })
    const error = await client.get('/me').catch((e) => e)
    expect(error.code).toBe('invalid_response')
  })
})

describe('401', () => {
  it('clears the session and sends the user to sign-in', async () => {
    saveSession({ token: 'expired' })
    uni.respond = () => json(401, { error: {
      code: 'unauthenticated', message: '请先登录', field: null } })
    const error = await client.get('/me').catch((e) => e)
    expect(error.status).toBe(401)
    expect(error.message).toBe('请先登录')
    expect(isSignedIn()).toBe(false)
    expect(uni.navigations).toEqual([
      { type: 'reLaunch', url: '/pages/login/login' }])
  })

  it('redirects once when several requests fail together', async () => {
    saveSession({ token: 'expired' })
    uni.respond = () => json(401, {})
    const errors = await Promise.all([
      client.get('/me').catch((e) => e),
      client.get('/certifications/current').catch((e) => e),
    ])
    expect(errors.map((e) => e.message)).toEqual([
      MESSAGES.unauthenticated, MESSAGES.unauthenticated])
    expect(uni.navigations.length).toBe(1)
    await wait()
    // a later 401 redirects again
    await client.get('/me').catch((e) => e)
    expect(uni.navigations.length).toBe(2)
  })

  it('stays on the sign-in page when it is already shown', async () => {
    uni.route = 'pages/login/login'
    saveSession({ token: 'expired' })
    uni.respond = () => json(401, {})
    await client.get('/me').catch((e) => e)
    expect(isSignedIn()).toBe(false)
    expect(uni.navigations).toEqual([])
  })
})

describe('uploads', () => {
  it('sends the file as field "file" with the bearer token', async () => {
    saveSession({ token: 'tok-1' })
    uni.respond = () => json(201, {
      id: 9, name: 'licence.jpg', size: 1024, mimetype: 'image/jpeg' })
    const result = await client.upload('/uploads', 'blob:photo-1')
    expect(result.id).toBe(9)
    const upload = uni.uploads[0]
    expect(upload.url).toBe('/demo/api/v1/uploads')
    expect(upload.name).toBe('file')
    expect(upload.filePath).toBe('blob:photo-1')
    expect(upload.header.Authorization).toBe('Bearer tok-1')
  })

  it('throws the error of a refused upload', async () => {
    uni.respond = () => json(422, { error: {
      code: 'invalid', message: '只能上传 JPEG、PNG 或 WebP 图片', field: 'file' } })
    const error = await client.upload('/uploads', 'blob:x').catch((e) => e)
    expect(error.field).toBe('file')
    expect(error.message).toBe('只能上传 JPEG、PNG 或 WebP 图片')
  })
})
