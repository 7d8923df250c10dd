// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// What the visitor pages share, as mixins of their options: a list of
// visits or batches by state, one visit with its actions, and a form sent to
// the API.  Each page keeps its data, texts and API calls; uni merges the page
// hooks of a mixin (onLoad, onShow, ...) with the page's own, in both builds.
import { errorMessage } from '../api/client.js'
import { LOGIN_PAGE } from '../api/config.js'
import { isSignedIn } from '../api/session.js'
import { createPager, loadPage } from './pager.js'
import { PAGES, errorField } from './visitor.js'

// Whether the account is signed in; if not, off to the sign-in page.
export function signedIn() {
  if (isSignedIn()) {
    return true
  }
  uni.reLaunch({ url: LOGIN_PAGE })
  return false
}

// A modal asking to confirm: resolves to true when confirmed.
export function confirm(title, content) {
  return new Promise((resolve) => {
    uni.showModal({ title, content, success: (res) => resolve(res.confirm), fail: () => resolve(false) })
  })
}

// A list by state tab (`?state=` opens on one), read page by page with
// fetchList({state, offset, limit}) -> {items, total}: again on each show and
// on pull-down, the next page at the bottom.
export function listPage(fetchList) {
  return {
    data() {
      return { state: '', pager: createPager() }
    },
    onLoad(query) {
      this.state = (query && query.state) || ''
    },
    onShow() {
      if (signedIn()) {
        this.reload()
      }
    },
    onPullDownRefresh() {
      this.reload().finally(() => uni.stopPullDownRefresh())
    },
    onReachBottom() {
      this.more()
    },
    methods: {
      fetch(range) {
        return fetchList({ state: this.state, ...range })
      },
      reload() {
        return loadPage(this.pager, this.fetch, { reset: true })
      },
      more() {
        return loadPage(this.pager, this.fetch)
      },
      setState(state) {
        this.state = state
        this.pager.items = []
        this.pager.loaded = false
        this.reload()
      },
    },
  }
}

// One visit (`?id=`), read with fetchVisit(id) on each show; act() runs an
// action that answers the visit; with reloadOnConflict a 409 (the visit
// changed meanwhile) reads it again.
export function visitPage(fetchVisit, { reloadOnConflict = false } = {}) {
  return {
    data() {
      return { id: null, visit: null, loading: false, error: '', busy: false }
    },
    computed: {
      cancellable() {
        return Boolean(this.visit) && ['requested', 'approved'].includes(this.visit.state)
          && !(this.visit.pass && this.visit.pass.state === 'used')
      },
    },
    onLoad(query) {
      this.id = query.id
    },
    onShow() {
      if (signedIn()) {
        this.load()
      }
    },
    methods: {
      async load() {
        this.loading = true
        this.error = ''
        try {
          this.visit = await fetchVisit(this.id)
        } catch (error) {
          this.error = errorMessage(error)
        } finally {
          this.loading = false
        }
      },
      async act(call, done) {
        this.busy = true
        this.error = ''
        try {
          this.visit = await call()
          uni.showToast({ title: done, icon: 'none' })
        } catch (error) {
          this.error = errorMessage(error)
          if (reloadOnConflict && error.status === 409) {
            this.load()
          }
        } finally {
          this.busy = false
        }
      },
      openPass() {
        uni.navigateTo({ url: `${PAGES.pass}?id=${this.visit.pass.id}` })
      },
    },
  }
}

// A form of the page's `form` with a time window: check(form) -> {field:
// message}, send(form) -> the API's answer, sent(answer) where to go next;
// an API error naming one of `fields` is shown under that field.
export function formPage({ fields, check, send, sent }) {
  return {
    data() {
      return { errors: {}, error: '', submitting: false }
    },
    onLoad() {
      signedIn()
    },
    methods: {
      setField(name, value) {
        this.form[name] = value
        if (this.errors[name]) {
          this.errors = { ...this.errors, [name]: '' }
        }
      },
      setWindow(window) {
        this.form.window = window
        this.errors = { ...this.errors, valid_from: '', valid_to: '' }
      },
      async submit() {
        this.errors = check(this.form)
        this.error = ''
        if (Object.keys(this.errors).length) {
          return
        }
        this.submitting = true
        try {
          sent(await send(this.form))
        } catch (error) {
          const field = errorField(error, fields)
          if (field) {
            this.errors = { [field]: error.message }
          } else {
            this.error = errorMessage(error)
          }
        } finally {
          this.submitting = false
        }
      },
    },
  }
}
