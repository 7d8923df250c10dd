// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The database and the server origin are fixed at build time (vite.config.js).
export const DATABASE = __PROPERTY_DB__

export function apiBase(origin = '') {
  return `${origin}/${encodeURIComponent(DATABASE)}/api/v1`
}

export function defaultBaseUrl() {
  // #ifdef H5
  // trytond serves the H5 build itself: same origin.
  return apiBase('')
  // #endif
  // #ifndef H5
  return apiBase(__PROPERTY_API_ORIGIN__)
  // #endif
}

// wx.request knows no PATCH: such calls go as POST with an override header.
export function supportsPatch() {
  // #ifdef MP-WEIXIN
  return false
  // #endif
  // #ifndef MP-WEIXIN
  return true
  // #endif
}

export const LOGIN_PAGE = '/pages/login/login'
export const HOME_PAGE = '/pages/index/index'
