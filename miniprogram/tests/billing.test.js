// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { describe, expect, it } from 'vitest'
import {
  billPeriods, billStateLabel, billTitle, dueText, feeKindLabel,
  followPayment, isOverdue, lineTitle, payMode, paymentOutcome,
  paymentStateLabel, periodLabel, readingsText, receiptFormat,
  receiptMethodLabel, receiptPageUrl, receiptRow, receiptStateLabel, receiptTarget,
  requestPaymentCancelled, stateTag, totalDue,
} from '../src/common/billing.js'

const bill = (values) => ({
  id: 1, number: 'INV-1', state: 'unpaid', date: '2024-06-01',
  due_date: '2024-06-16', total: '100.00', amount_due: '100.00', lines: [],
  ...values,
})

describe('billing labels', () => {
  it('names bill states', () => {
    expect(billStateLabel('unpaid')).toBe('待缴费')
    expect(billStateLabel('paid')).toBe('已缴清')
    expect(billStateLabel('later')).toBe('later')
    expect(billStateLabel(undefined)).toBe('')
  })

  it('names payment states', () => {
    expect(paymentStateLabel('pending')).toBe('待支付')
    expect(paymentStateLabel('paid')).toBe('支付成功')
    expect(paymentStateLabel('closed')).toBe('已关闭')
    expect(paymentStateLabel('flagged')).toBe('待人工核对')
  })

  it('colours states', () => {
    expect(stateTag('paid')).toBe('tag-approved')
    expect(stateTag('unpaid')).toBe('tag-pending')
    expect(stateTag('flagged')).toBe('tag-rejected')
    expect(stateTag('other')).toBe('')
  })

  it('names fee kinds', () => {
    expect(feeKindLabel('management')).toBe('物业管理费')
    expect(feeKindLabel('water')).toBe('水费')
    expect(feeKindLabel('electricity')).toBe('电费')
    expect(feeKindLabel('parking')).toBe('停车费')
    expect(feeKindLabel('other')).toBe('其他费用')
    expect(feeKindLabel('late_fee')).toBe('滞纳金')
    expect(feeKindLabel(null)).toBe('')
  })

  it('names a line by its fee kind, else its description', () => {
    expect(lineTitle({ kind: 'water', description: 'Water A-101' })).toBe('水费')
    expect(lineTitle({ kind: null, description: '装修押金' })).toBe('装修押金')
    expect(lineTitle({ kind: null, description: null })).toBe('费用')
  })

  it('shows periods in Chinese', () => {
    expect(periodLabel('2024-05')).toBe('2024年5月')
    expect(periodLabel('2024-12')).toBe('2024年12月')
    expect(periodLabel(null)).toBe('')
    expect(periodLabel('Q2')).toBe('Q2')
  })

  it('shows the readings of metered lines only', () => {
    expect(readingsText({
      previous_reading: '1200.00', current_reading: '1235.50', consumption: '35.50',
    })).toBe('上次 1200.00 · 本次 1235.50 · 用量 35.50')
    expect(readingsText({
      previous_reading: null, current_reading: null, consumption: null,
    })).toBe('')
  })

  it('titles a bill by its periods, else its description', () => {
    const lines = [{ period: '2024-05' }, { period: '2024-04' }, { period: '2024-05' }]
    expect(billPeriods(bill({ lines }))).toBe('2024年4月、2024年5月')
    expect(billTitle(bill({ lines: [{ period: '2024-05' }] }))).toBe('2024年5月账单')
    expect(billTitle(bill({ description: '装修押金' }))).toBe('装修押金')
    expect(billTitle(bill({ description: null }))).toBe('账单 INV-1')
  })

  it('titles a late fee bill by the bill it is charged on', () => {
    const lateFee = { late_fee_of: { id: 7, number: 'INV-7' } }
    expect(billTitle(bill({ ...lateFee, lines: [{ period: '2024-05', kind: 'late_fee' }] })))
      .toBe('2024年5月滞纳金（账单 INV-7）')
    expect(billTitle(bill({ ...lateFee, description: 'Late fee of bill INV-7' })))
      .toBe('滞纳金（账单 INV-7）')
    expect(lineTitle({ kind: 'late_fee', description: 'Late fee' })).toBe('滞纳金')
  })

  it('adds up what the unpaid bills are due', () => {
    expect(totalDue([
      bill({ amount_due: '0.10' }),
      bill({ amount_due: '0.20' }),
      bill({ state: 'paid', amount_due: '0.00', total: '50.00' }),
    ])).toBe('0.30')
    expect(totalDue([])).toBe('0.00')
  })

  it('says when an unpaid bill falls due and whether it is late', () => {
    expect(dueText(bill())).toBe('缴费截止 2024-06-16')
    expect(dueText(bill({ state: 'paid' }))).toBe('')
    expect(dueText(bill({ due_date: null }))).toBe('')
    expect(isOverdue(bill(), '2024-06-17')).toBe(true)
    expect(isOverdue(bill(), '2024-06-16')).toBe(false)
    expect(isOverdue(bill({ state: 'paid' }), '2025-01-01')).toBe(false)
  })
})

describe('pay mode', () => {
  it('pays with WeChat in the mini-program', () => {
    expect(payMode('mp-weixin', null)).toBe('wechat')
    expect(payMode('mp-weixin', { available: true, simulation: false })).toBe('wechat')
  })

  it('simulates in a browser only when the server says so', () => {
    expect(payMode('h5', { available: true, simulation: true })).toBe('simulation')
    expect(payMode('h5', { available: true, simulation: false })).toBe('unsupported')
    // a server that does not say (no /payments/config) simulates nothing
    expect(payMode('h5', null)).toBe('unsupported')
    expect(payMode('h5', { available: true, simulation: 'yes' })).toBe('unsupported')
  })

  it('says when the server has no online payment', () => {
    expect(payMode('mp-weixin', { available: false, simulation: false })).toBe('unavailable')
    expect(payMode('h5', { available: false, simulation: true })).toBe('unavailable')
  })

  it('tells a cancelled WeChat cashier from a failure', () => {
    expect(requestPaymentCancelled({ errMsg: 'requestPayment:fail cancel' })).toBe(true)
    expect(requestPaymentCancelled({ errMsg: 'requestPayment:fail (detail message)' })).toBe(false)
    expect(requestPaymentCancelled(undefined)).toBe(false)
  })
})

// A clock that advances only when the poller waits.
function clock() {
  const state = { time: 0, waits: [] }
  state.now = () => state.time
  state.wait = async (ms) => {
    state.waits.push(ms)
    state.time += ms
  }
  return state
}

const payment = (state) => ({ id: 9, state, amount: '100.00' })

describe('following a payment', () => {
  it('asks until the payment is no longer pending', async () => {
    const time = clock()
    const answers = ['pending', 'pending', 'paid']
    const seen = []
    const result = await followPayment(async () => payment(answers.shift()), {
      interval: 2000, timeout: 60000, now: time.now, wait: time.wait,
      onUpdate: (p) => seen.push(p.state),
    })
    expect(result).toEqual({ payment: payment('paid'), done: true })
    expect(seen).toEqual(['pending', 'pending', 'paid'])
    expect(time.waits).toEqual([2000, 2000])
  })

  it('stops at once on a closed or flagged order', async () => {
    for (const state of ['closed', 'flagged']) {
      const time = clock()
      const result = await followPayment(async () => payment(state), {
        now: time.now, wait: time.wait })
      expect(result.done).toBe(true)
      expect(paymentOutcome(result.payment)).toBe(state)
      expect(time.waits).toEqual([])
    }
  })

  it('gives up when the time runs out, with the last answer', async () => {
    const time = clock()
    let calls = 0
    const result = await followPayment(async () => {
      calls += 1
      return payment('pending')
    }, { interval: 2000, timeout: 10000, now: time.now, wait: time.wait })
    expect(result).toEqual({ payment: payment('pending'), done: false })
    expect(calls).toBe(6)
    expect(time.time).toBeLessThanOrEqual(10000)
  })

  it('rides over a network error', async () => {
    const time = clock()
    const answers = [new Error('network'), payment('paid')]
    const result = await followPayment(async () => {
      const answer = answers.shift()
      if (answer instanceof Error) {
        throw answer
      }
      return answer
    }, { now: time.now, wait: time.wait })
    expect(result.done).toBe(true)
    expect(result.payment.state).toBe('paid')
  })

  it('fails after errors in a row', async () => {
    const time = clock()
    let calls = 0
    await expect(followPayment(async () => {
      calls += 1
      throw Object.assign(new Error('服务器开小差了'), { status: 503 })
    }, { maxErrors: 3, now: time.now, wait: time.wait }))
      .rejects.toThrow('服务器开小差了')
    expect(calls).toBe(3)
  })

  it('fails at once when the session or the payment is gone', async () => {
    for (const status of [401, 404]) {
      const time = clock()
      let calls = 0
      await expect(followPayment(async () => {
        calls += 1
        throw Object.assign(new Error('gone'), { status })
      }, { now: time.now, wait: time.wait })).rejects.toThrow('gone')
      expect(calls).toBe(1)
    }
  })

  it('stops when the page goes away', async () => {
    const time = clock()
    const control = { stopped: false }
    let calls = 0
    const result = await followPayment(async () => {
      calls += 1
      control.stopped = true
      return payment('pending')
    }, { control, now: time.now, wait: time.wait })
    expect(result.done).toBe(false)
    expect(calls).toBe(1)
    expect(time.waits).toEqual([])
  })

  it('knows no outcome without a payment', () => {
    expect(paymentOutcome(null)).toBe('unknown')
    expect(paymentOutcome({ state: 'paid' })).toBe('paid')
    expect(paymentOutcome({ state: 'refunding' })).toBe('unknown')
  })
})

// Items of GET /receipts as the API gives them.
const online = {
  method: 'wechat_pay', id: 7, number: 'PB7', amount: '2186.20', date: '2024-06-03',
  paid_at: '2024-06-03T02:05:00Z', bill: { id: 12, number: 'INV-12' },
  receipt: '/payments/7/receipt',
}
const finance = {
  method: 'finance', id: 7, number: 'FIN 2024/06#3', amount: '80.5', date: '2024-06-02',
  paid_at: null, bill: { id: 13, number: 'INV-13' }, receipt: '/receipts/finance/7',
}

// The query the receipt page's onLoad gets from a page URL: decoded in H5,
// as written in the mini-program.
function pageQuery(url, { decoded = true } = {}) {
  const [path, search] = url.split('?')
  expect(path).toBe('/pages/billing/receipt/receipt')
  return Object.fromEntries(search.split('&').map((part) => {
    const [key, value] = part.split('=')
    return [key, decoded ? decodeURIComponent(value) : value]
  }))
}

describe('receipts', () => {
  it('names how a payment was made', () => {
    expect(receiptMethodLabel('wechat_pay')).toBe('微信支付')
    expect(receiptMethodLabel('finance')).toBe('物业财务收款')
    expect(receiptMethodLabel('cash')).toBe('cash')
  })

  it('says a payment received by the finance system is received', () => {
    expect(receiptStateLabel('finance', undefined)).toBe('已收款')
    expect(receiptStateLabel('wechat_pay', 'paid')).toBe('支付成功')
    expect(receiptStateLabel('wechat_pay', 'pending')).toBe('待支付')
  })

  it('lists a WeChat payment with its amount, method and time paid', () => {
    const row = receiptRow(online)
    expect(row.key).toBe('wechat_pay-7')
    expect(row.amountText).toBe('¥2,186.20')
    expect(row.stateText).toBe('支付成功')
    expect(row.tagClass).toBe('tag-approved')
    expect(row.methodText).toMatch(/^微信支付 · 2024-06-03 \d{2}:05$/)
    expect(row.bill.number).toBe('INV-12')
  })

  it('lists a payment received by the finance system with its date', () => {
    const row = receiptRow(finance)
    // the same id as the WeChat payment: another key
    expect(row.key).toBe('finance-7')
    expect(row.amountText).toBe('¥80.50')
    expect(row.stateText).toBe('已收款')
    expect(row.tagClass).toBe('tag-approved')
    expect(row.methodText).toBe('物业财务收款 · 2024-06-02')
  })

  it('opens a WeChat payment by its id and the receipt path it gives', () => {
    const url = receiptPageUrl(online)
    expect(url).toBe('/pages/billing/receipt/receipt?method=wechat_pay&id=7'
      + '&receipt=%2Fpayments%2F7%2Freceipt')
    for (const decoded of [true, false]) {
      expect(receiptTarget(pageQuery(url, { decoded }))).toEqual({
        method: 'wechat_pay', id: '7', path: '/payments/7/receipt', payment: null })
    }
  })

  it('opens a finance payment with what the page shows of it', () => {
    const url = receiptPageUrl(finance)
    for (const decoded of [true, false]) {
      expect(receiptTarget(pageQuery(url, { decoded }))).toEqual({
        method: 'finance',
        id: '7',
        path: '/receipts/finance/7',
        payment: {
          number: 'FIN 2024/06#3', amount: '80.5', date: '2024-06-02',
          bill: { id: '13', number: 'INV-13' },
        },
      })
    }
  })

  it('opens the receipt of a WeChat payment from the pay page by its id', () => {
    expect(receiptTarget({ id: '9' })).toEqual({
      method: 'wechat_pay', id: '9', path: '/payments/9/receipt', payment: null })
  })

  it('sends the token to no receipt path outside the API', () => {
    for (const receipt of ['https://evil.example/r', '//evil.example/r', '/a/../b', '']) {
      expect(receiptTarget({ method: 'finance', id: '3', receipt }).path).toBe('')
      expect(receiptTarget({ method: 'wechat_pay', id: '3', receipt }).path)
        .toBe('/payments/3/receipt')
    }
    expect(receiptTarget({ id: 'x' }).path).toBe('')
  })

  it('opens a PDF in the mini-program and the printable page in a browser', () => {
    expect(receiptFormat('mp-weixin')).toBe('pdf')
    expect(receiptFormat('h5')).toBe('html')
  })
})
