// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// What the billing pages show of bills and payments, and how a payment is
// followed until WeChat Pay has told the server how it ended.
import { formatDateTime } from './labels.js'
import { formatMoney, sumMoney } from './money.js'

export const BILL_STATES = {
  unpaid: '待缴费',
  paid: '已缴清',
}

export const PAYMENT_STATES = {
  pending: '待支付',
  paid: '支付成功',
  closed: '已关闭',
  flagged: '待人工核对',
}

export const FEE_KINDS = {
  management: '物业管理费',
  water: '水费',
  electricity: '电费',
  parking: '停车费',
  other: '其他费用',
  late_fee: '滞纳金',
}

export function billStateLabel(state) {
  return BILL_STATES[state] || state || ''
}

export function paymentStateLabel(state) {
  return PAYMENT_STATES[state] || state || ''
}

// The tag class of a bill or payment state (styles of App.vue).
export function stateTag(state) {
  return {
    unpaid: 'tag-pending',
    pending: 'tag-pending',
    paid: 'tag-approved',
    closed: 'tag-closed',
    flagged: 'tag-rejected',
  }[state] || ''
}

export function feeKindLabel(kind) {
  return FEE_KINDS[kind] || ''
}

// "2024-05" -> "2024年5月"
export function periodLabel(period) {
  const match = /^(\d{4})-(\d{2})$/.exec(period || '')
  if (!match) {
    return period || ''
  }
  return `${match[1]}年${Number(match[2])}月`
}

// The name of a bill line: its fee kind, else its description.
export function lineTitle(line) {
  return feeKindLabel(line.kind) || line.description || '费用'
}

// "上次 1200.00 · 本次 1235.50 · 用量 35.50" for metered lines, else ''.
export function readingsText(line) {
  const parts = []
  if (line.previous_reading !== null && line.previous_reading !== undefined) {
    parts.push(`上次 ${line.previous_reading}`)
  }
  if (line.current_reading !== null && line.current_reading !== undefined) {
    parts.push(`本次 ${line.current_reading}`)
  }
  if (line.consumption !== null && line.consumption !== undefined) {
    parts.push(`用量 ${line.consumption}`)
  }
  return parts.join(' · ')
}

// The periods of the lines of a bill, in order: "2024年4月、2024年5月"
export function billPeriods(bill) {
  const periods = [...new Set((bill.lines || []).map((l) => l.period)
    .filter(Boolean))].sort()
  return periods.map(periodLabel).join('、')
}

// The title of a bill in lists: its periods, else its description; a late
// fee bill says so and names the overdue bill it is charged on.
export function billTitle(bill) {
  const periods = billPeriods(bill)
  if (bill.late_fee_of) {
    return `${periods}滞纳金（账单 ${bill.late_fee_of.number}）`
  }
  if (periods) {
    return `${periods}账单`
  }
  return bill.description || `账单 ${bill.number}`
}

// What the unpaid bills add up to, as a decimal string.
export function totalDue(bills) {
  return sumMoney(bills.filter((bill) => bill.state === 'unpaid')
    .map((bill) => bill.amount_due))
}

// The last day to pay, or '' (dates are ISO "YYYY-MM-DD").
export function dueText(bill) {
  if (!bill.due_date || bill.state === 'paid') {
    return ''
  }
  return `缴费截止 ${bill.due_date}`
}

export function isOverdue(bill, today) {
  return bill.state === 'unpaid' && Boolean(bill.due_date)
    && bill.due_date < today
}

// Today as "YYYY-MM-DD" in local time.
export function localToday(now = new Date()) {
  const pad = (n) => String(n).padStart(2, '0')
  return `${now.getFullYear()}-${pad(now.getMonth() + 1)}-${pad(now.getDate())}`
}

export const POLL_INTERVAL = 2000
export const POLL_TIMEOUT = 60000
// network errors in a row before following the payment gives up
export const POLL_ERRORS = 3

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms))

// Follows a payment until its state is no longer pending.
//
// fetchPayment() answers GET /payments/{id}: while the order is pending the
// server asks WeChat Pay, so polling is how the page learns of a payment
// whose notification is late.  Resolves with {payment, done}: done is false
// when the time ran out or the caller stopped (control.stopped), with the
// last payment seen.  Rejects after POLL_ERRORS failures in a row.
export async function followPayment(fetchPayment, {
  interval = POLL_INTERVAL,
  timeout = POLL_TIMEOUT,
  maxErrors = POLL_ERRORS,
  control = {},
  now = () => Date.now(),
  wait = sleep,
  onUpdate = () => {},
} = {}) {
  const deadline = now() + timeout
  let payment = null
  let errors = 0
  for (;;) {
    if (control.stopped) {
      return { payment, done: false }
    }
    try {
      payment = await fetchPayment()
      errors = 0
      onUpdate(payment)
      if (payment.state !== 'pending') {
        return { payment, done: true }
      }
    } catch (error) {
      // an expired session is not worth waiting for
      errors += 1
      if (errors >= maxErrors || error.status === 401 || error.status === 404) {
        throw error
      }
    }
    if (now() + interval > deadline || control.stopped) {
      return { payment, done: false }
    }
    await wait(interval)
  }
}

// Where a payment stands, for the pay and receipt pages.
export function paymentOutcome(payment) {
  if (!payment) {
    return 'unknown'
  }
  return {
    paid: 'paid',
    pending: 'pending',
    closed: 'closed',
    flagged: 'flagged',
  }[payment.state] || 'unknown'
}

// How the pay page takes the payment.  config is the server's answer to
// GET /payments/config ({available, simulation}), null when it has none:
// - wechat: the mini-program calls wx.requestPayment;
// - simulation: a browser against a server whose WeChat Pay is the test
//   fake, which pays the order as the user would (never said by the client);
// - unsupported: a browser otherwise, as WeChat Pay needs WeChat;
// - unavailable: the server has no online payment.
export function payMode(platform, config) {
  if (config && config.available === false) {
    return 'unavailable'
  }
  if (platform === 'mp-weixin') {
    return 'wechat'
  }
  if (config && config.simulation === true) {
    return 'simulation'
  }
  return 'unsupported'
}

// What wx.requestPayment's failure means: the user closed the cashier, or
// it failed.
export function requestPaymentCancelled(error) {
  return /cancel/i.test((error && error.errMsg) || '')
}

// --- receipts: my payments paid online or received by the finance system ---

export const RECEIPT_METHODS = {
  wechat_pay: '微信支付',
  finance: '物业财务收款',
}

export const RECEIPT_PAGE = '/pages/billing/receipt/receipt'

export function receiptMethodLabel(method) {
  return RECEIPT_METHODS[method] || method || ''
}

// A payment received by the finance system has a receipt once posted.
export function receiptStateLabel(method, state) {
  return method === 'finance' ? '已收款' : paymentStateLabel(state)
}

// What the payment history shows of an item of GET /receipts (ids are
// unique per method only).
export function receiptRow(item) {
  const online = item.method === 'wechat_pay'
  const when = online && item.paid_at ? formatDateTime(item.paid_at) : item.date
  return {
    ...item,
    key: `${item.method}-${item.id}`,
    amountText: formatMoney(item.amount),
    stateText: receiptStateLabel(item.method, 'paid'),
    tagClass: stateTag('paid'),
    methodText: [receiptMethodLabel(item.method), when].filter(Boolean).join(' · '),
  }
}

// The receipt page of an item of GET /receipts, with the path of its
// receipt.  That page reads a WeChat Pay payment again by its id (state,
// transaction, refunds); a payment received by the finance system has no
// other address, so what the page shows of it travels in the URL.
export function receiptPageUrl(item) {
  const query = { method: item.method, id: item.id, receipt: item.receipt }
  if (item.method === 'finance') {
    Object.assign(query, {
      number: item.number,
      amount: item.amount,
      date: item.date,
      bill_id: item.bill && item.bill.id,
      bill: item.bill && item.bill.number,
    })
  }
  const parts = Object.entries(query)
    .filter(([, value]) => value !== undefined && value !== null && value !== '')
    .map(([key, value]) => `${key}=${encodeURIComponent(value)}`)
  return `${RECEIPT_PAGE}?${parts.join('&')}`
}

// The H5 build hands onLoad decoded values, the mini-program the raw ones.
function queryValue(value) {
  if (value === undefined || value === null) {
    return ''
  }
  try {
    return decodeURIComponent(String(value))
  } catch (e) {
    return String(value)
  }
}

// What the receipt page was opened with (receiptPageUrl, or just the id of
// a WeChat Pay payment from the pay page): {method, id, path, payment}.
// path is the receipt under the API, '' when the query gives none usable;
// payment is what the page shows of a finance payment, null for WeChat Pay
// whose payment the page reads.
export function receiptTarget(query = {}) {
  const method = queryValue(query.method) === 'finance' ? 'finance' : 'wechat_pay'
  const id = queryValue(query.id)
  let path = queryValue(query.receipt)
  if (!/^(\/[\w-]+)+$/.test(path)) {
    // only a path under the API, which the session's token is sent to
    path = method === 'wechat_pay' && /^\d+$/.test(id) ? `/payments/${id}/receipt` : ''
  }
  if (method === 'wechat_pay') {
    return { method, id, path, payment: null }
  }
  return {
    method,
    id,
    path,
    payment: {
      number: queryValue(query.number),
      amount: queryValue(query.amount),
      date: queryValue(query.date),
      bill: { id: queryValue(query.bill_id), number: queryValue(query.bill) },
    },
  }
}

// The receipt document a platform opens: WeChat's openDocument shows PDF
// and no HTML; a browser shows the printable HTML page in a new window,
// where a phone's browser would only download a PDF.
export function receiptFormat(platform) {
  return platform === 'mp-weixin' ? 'pdf' : 'html'
}
