// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The one API client every page uses: base URL, bearer token, the JSON error
// shape {"error": {"code", "message", "field"}} turned into ApiError, and a
// 401 that ends the session and sends the user back to sign-in.
import { LOGIN_PAGE, defaultBaseUrl, supportsPatch } from './config.js'
import { clearSession, getToken } from './session.js'

export class ApiError extends Error {
  constructor(status, code, message, field = null) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.code = code
    this.field = field
  }
}

export const MESSAGES = {
  network: '网络连接失败，请检查网络后重试',
  server: '服务器开小差了，请稍后重试',
  unauthenticated: '登录已失效，请重新登录',
  invalidResponse: '服务器返回了无法识别的数据',
}

export function buildQuery(query) {
  if (!query) {
    return ''
  }
  const parts = []
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || value === null || value === '') {
      continue
    }
    parts.push(`${encodeURIComponent(key)}=${encodeURIComponent(value)}`)
  }
  return parts.length ? `?${parts.join('&')}` : ''
}

function parseBody(data) {
  if (typeof data !== 'string') {
    return data
  }
  if (!data) {
    return null
  }
  try {
    return JSON.parse(data)
  } catch (e) {
    return undefined
  }
}

// Turns a response (statusCode + parsed body) into data or an ApiError.
export function toResult(statusCode, rawData) {
  const data = parseBody(rawData)
  if (statusCode >= 200 && statusCode < 300) {
    if (statusCode === 204) {
      return null
    }
    if (data === undefined) {
      throw new ApiError(statusCode, 'invalid_response', MESSAGES.invalidResponse)
    }
    return data
  }
  const error = data && typeof data === 'object' ? data.error : null
  if (error && typeof error === 'object' && error.message) {
    throw new ApiError(statusCode, error.code || 'error', error.message,
      error.field || null)
  }
  if (statusCode === 401) {
    throw new ApiError(401, 'unauthenticated', MESSAGES.unauthenticated)
  }
  throw new ApiError(statusCode, `http_${statusCode}`,
    `${MESSAGES.server}（${statusCode}）`)
}

function currentRoute() {
  try {
    const pages = getCurrentPages()
    const page = pages[pages.length - 1]
    return page ? `/${page.route}` : ''
  } catch (e) {
    return ''
  }
}

let redirecting = false

// A 401 means the token is gone or expired: forget it and start again at
// sign-in (once, however many requests fail together).
export function handleUnauthorized() {
  clearSession()
  if (redirecting || currentRoute() === LOGIN_PAGE) {
    return
  }
  redirecting = true
  uni.reLaunch({
    url: LOGIN_PAGE,
    complete() {
      redirecting = false
    },
  })
}

export function createClient(options = {}) {
  const baseUrl = options.baseUrl || defaultBaseUrl()
  const patch = options.patch ?? supportsPatch()

  function headers(extra) {
    const result = { 'Accept-Language': 'zh-CN', ...extra }
    const token = getToken()
    if (token) {
      result.Authorization = `Bearer ${token}`
    }
    return result
  }

  function settle(resolve, reject, statusCode, data) {
    try {
      resolve(toResult(statusCode, data))
    } catch (error) {
      if (error.status === 401) {
        handleUnauthorized()
      }
      reject(error)
    }
  }

  function request(method, path, { body, query } = {}) {
    const extra = { Accept: 'application/json' }
    if (method === 'PATCH' && !patch) {
      method = 'POST'
      extra['X-HTTP-Method-Override'] = 'PATCH'
    }
    if (body !== undefined) {
      extra['Content-Type'] = 'application/json'
    }
    return new Promise((resolve, reject) => {
      uni.request({
        url: baseUrl + path + buildQuery(query),
        method,
        header: headers(extra),
        data: body === undefined ? undefined : JSON.stringify(body),
        dataType: 'text',
        responseType: 'text',
        success(res) {
          settle(resolve, reject, res.statusCode, res.data)
        },
        fail() {
          reject(new ApiError(0, 'network', MESSAGES.network))
        },
      })
    })
  }

  // Sends one local file (a chooseImage path) as multipart field "file".
  function upload(path, filePath, name = 'file') {
    return new Promise((resolve, reject) => {
      uni.uploadFile({
        url: baseUrl + path,
        filePath,
        name,
        header: headers({ Accept: 'application/json' }),
        success(res) {
          settle(resolve, reject, res.statusCode, res.data)
        },
        fail() {
          reject(new ApiError(0, 'network', MESSAGES.network))
        },
      })
    })
  }

  // Fetches a file of the API (e.g. an image) into a local temporary file
  // and returns its path.
  function download(path, query) {
    return new Promise((resolve, reject) => {
      uni.downloadFile({
        url: baseUrl + path + buildQuery(query),
        header: headers({}),
        success(res) {
          if (res.statusCode >= 200 && res.statusCode < 300) {
            resolve(res.tempFilePath)
          } else {
            settle(resolve, reject, res.statusCode, null)
          }
        },
        fail() {
          reject(new ApiError(0, 'network', MESSAGES.network))
        },
      })
    })
  }

  return {
    baseUrl,
    request,
    upload,
    download,
    get: (path, query) => request('GET', path, { query }),
    post: (path, body) => request('POST', path, { body: body ?? {} }),
    patch: (path, body) => request('PATCH', path, { body }),
    del: (path) => request('DELETE', path),
  }
}

export const api = createClient()

// The message to show the user for any error a call may throw.
export function errorMessage(error) {
  if (error instanceof ApiError) {
    return error.message
  }
  return (error && error.message) || MESSAGES.server
}
