// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// A stand-in for the `uni` global: storage in a Map, requests answered by the
// test's `respond(request)` function, navigations, toasts and modals recorded.
export function installFakeUni() {
  const storage = new Map()
  const fake = {
    storage,
    requests: [],
    uploads: [],
    navigations: [],
    route: 'pages/index/index',
    respond: () => ({ statusCode: 200, data: '{}' }),
    getStorageSync: (key) => (storage.has(key)
      ? JSON.parse(JSON.stringify(storage.get(key))) : ''),
    setStorageSync: (key, value) => {
      storage.set(key, JSON.parse(JSON.stringify(value)))
    },
    removeStorageSync: (key) => {
      storage.delete(key)
    },
    request(options) {
      fake.requests.push(options)
      answer(options)
    },
    uploadFile(options) {
      fake.uploads.push(options)
      answer(options)
    },
    reLaunch(options) {
      fake.navigations.push({ type: 'reLaunch', url: options.url })
      setTimeout(() => options.complete && options.complete(), 0)
    },
    navigateTo(options) {
      fake.navigations.push({ type: 'navigateTo', url: options.url })
    },
    redirectTo(options) {
      fake.navigations.push({ type: 'redirectTo', url: options.url })
    },
    // toasts and modals shown; a modal is answered with `confirm`
    toasts: [],
    modals: [],
    confirm: true,
    showToast(options) {
      fake.toasts.push(options)
    },
    showModal(options) {
      fake.modals.push(options)
      setTimeout(() => options.success({ confirm: fake.confirm, cancel: !fake.confirm }), 0)
    },
    pullDownStopped: 0,
    stopPullDownRefresh() {
      fake.pullDownStopped += 1
    },
  }
  function answer(options) {
    const response = fake.respond(options)
    setTimeout(() => {
      if (response.fail) {
        options.fail && options.fail({ errMsg: 'request:fail' })
      } else {
        options.success(response)
      }
    }, 0)
  }
  globalThis.uni = fake
  globalThis.getCurrentPages = () => [{ route: fake.route }]
  return fake
}

export function json(statusCode, body) {
  return {
    statusCode,
    data: body === undefined ? '' : JSON.stringify(body),
  }
}

export const wait = (ms = 5) => new Promise((resolve) => setTimeout(resolve, ms))
