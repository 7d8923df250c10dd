// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// A list read page by page from the API ({items, total}): the first page on
// a new filter, the next one at the bottom of the list; an answer that
// arrives after the filter changed is dropped.
import { errorMessage } from '../api/client.js'

export const PAGE_SIZE = 20

export function createPager() {
  return { items: [], total: 0, loading: false, error: '', loaded: false, serial: 0 }
}

export function hasMore(pager) {
  return pager.loaded && pager.items.length < pager.total
}

// fetch({offset, limit}) -> {items, total}; reset starts again at offset 0.
export async function loadPage(pager, fetch, { reset = false } = {}) {
  if (!reset && (pager.loading || (pager.loaded && !hasMore(pager)))) {
    return
  }
  const serial = ++pager.serial
  const offset = reset ? 0 : pager.items.length
  pager.loading = true
  pager.error = ''
  try {
    const page = await fetch({ offset, limit: PAGE_SIZE })
    if (serial !== pager.serial) {
      return
    }
    pager.items = offset ? pager.items.concat(page.items) : page.items
    pager.total = page.total
    pager.loaded = true
  } catch (error) {
    if (serial === pager.serial) {
      pager.error = errorMessage(error)
    }
  } finally {
    if (serial === pager.serial) {
      pager.loading = false
    }
  }
}
