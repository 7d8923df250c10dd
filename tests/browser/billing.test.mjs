// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// Paying a bill in the H5 site against the demo data's posted bills and the
// fake WeChat Pay (scripts/test.d/20-e2e starts it and points trytond at
// it): a merchant sees the bill and its amount, pays it through the fake's
// simulated user payment and notification, and sees it paid with a receipt.
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import {
  APP, api, devAccounts, launch, phone, screenshot, see, signInAs, text,
} from './helpers.mjs'

// The amount as a person reads it on the bill, from the API's decimal
// string, written here without the app's code: "2186.2" -> "¥2,186.20"
function yuan(amount) {
  const [whole, decimals = ''] = amount.split('.')
  return `¥${whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')}.${(decimals + '00').slice(0, 2)}`
}

async function signIn(account) {
  const { status, data } = await api('POST', '/auth/dev', { body: { account_id: account.id } })
  assert.equal(status, 200)
  return data.token
}

// The first account of role with an unpaid bill it may pay: {account, token, bill}
async function payer(accounts, role, skip = new Set()) {
  for (const account of accounts.filter((a) => a.role === role && !skip.has(a.id))) {
    const token = await signIn(account)
    const { data } = await api('GET', '/bills?state=unpaid', { token })
    const bill = data.items.find((b) => b.payable)
    if (bill) {
      return { account, token, bill, unpaid: data.items }
    }
  }
  assert.fail(`the demo data gives a ${role} an unpaid bill`)
}

let browser
let context
let page
let merchant
let tenant

before(async () => {
  const accounts = await devAccounts()
  merchant = await payer(accounts, 'merchant')
  tenant = await payer(accounts, 'tenant')
  const config = await api('GET', '/payments/config', { token: merchant.token })
  assert.equal(config.status, 200, 'GET /payments/config answers')
  assert.deepEqual(config.data, { available: true, simulation: true },
    'the server under test runs against the fake WeChat Pay')
  browser = await launch()
  context = await phone(browser)
  page = await context.newPage()
})

after(async () => {
  await browser?.close()
})

describe('H5 billing', () => {
  let bill

  it('opens my bills from 在线缴费 with the amount due', async () => {
    bill = merchant.bill
    await signInAs(page, merchant.account)
    await page.locator('.menu-item').filter({ hasText: '在线缴费' }).click()
    await see(page, '待缴总额')
    await see(page, `共 ${merchant.unpaid.length} 笔账单待缴`)
    if (merchant.unpaid.length === 1) {
      assert.equal((await page.locator('.bills-summary-total').textContent()).trim(),
        yuan(bill.amount_due))
    }
    const card = page.locator('.bill-item').filter({ hasText: bill.number })
    await card.waitFor()
    assert.match(await card.textContent(), new RegExp(yuan(bill.amount_due).replace(/[.$]/g, '\\$&')))
    assert.match(await card.textContent(), /待缴费/)
    await screenshot(page, 'bills-unpaid')
  })

  it('shows the bill with its lines', async () => {
    await page.locator('.bill-item').filter({ hasText: bill.number }).click()
    await see(page, '费用明细')
    await see(page, yuan(bill.amount_due))
    const lines = page.locator('.bill-line')
    assert.equal(await lines.count(), bill.lines.length)
    for (const line of bill.lines) {
      const shown = lines.filter({ hasText: line.unit }).filter({ hasText: yuan(line.amount) })
      assert.ok(await shown.count() >= 1, `line ${line.unit} ${line.amount} is shown`)
    }
    const period = bill.lines[0].period.split('-')
    await see(page, `${period[0]}年${Number(period[1])}月账单`)
    await see(page, bill.number)
    await screenshot(page, 'bill-detail')
  })

  it('pays the bill through the simulated WeChat payment', async () => {
    await page.locator('.pay-button').click()
    await see(page, '模拟支付（测试环境）')
    await screenshot(page, 'pay')
    await page.locator('.pay-submit').click()
    await see(page, '模拟微信支付')
    const orderNumber = (await page.locator('.pay-simulate .row')
      .filter({ hasText: '订单号' }).locator('.row-value').textContent()).trim()
    assert.match(orderNumber, /^PB\w+$/)
    await screenshot(page, 'pay-simulated-cashier')
    await page.locator('.simulate-confirm').click()
    await see(page, '缴费成功', { timeout: 30000 })
    await see(page, orderNumber)
    await screenshot(page, 'pay-paid')

    const payments = await api('GET', '/payments', { token: merchant.token })
    const payment = payments.data.items.find((p) => p.out_trade_no === orderNumber)
    assert.equal(payment.state, 'paid')
    assert.equal(payment.amount, bill.amount_due)
    assert.match(payment.transaction_id, /^4200\d{24}$/)
    const after = await api('GET', `/bills/${bill.id}`, { token: merchant.token })
    assert.equal(after.data.state, 'paid')
    assert.equal(after.data.amount_due, '0.00')
  })

  it('shows the bill paid', async () => {
    await text(page, '返回我的账单').click()
    await see(page, '待缴总额')
    // the list reloads when shown: wait for the fresh one
    await page.locator('.bill-item').filter({ hasText: bill.number })
      .waitFor({ state: 'detached', timeout: 15000 })
    assert.equal(await page.locator('.bill-item').filter({ hasText: bill.number }).count(), 0,
      'the bill left the unpaid tab')
    if (merchant.unpaid.length === 1) {
      await see(page, '您的账单已全部缴清')
      assert.equal((await page.locator('.bills-summary-total').textContent()).trim(), '¥0.00')
    }
    await page.locator('.tab').filter({ hasText: '已缴账单' }).click()
    const card = page.locator('.bill-item').filter({ hasText: bill.number })
    await card.waitFor()
    assert.match(await card.textContent(), /已缴清/)
    assert.match(await card.textContent(), new RegExp(yuan(bill.total).replace(/[.$]/g, '\\$&')))
    await screenshot(page, 'bills-paid')
  })

  it('lists the payment in the history with its receipt', async () => {
    await page.locator('.bills-link-payments').click()
    const item = page.locator('.payment-item').filter({ hasText: bill.number })
    await item.waitFor()
    assert.match(await item.textContent(), /支付成功/)
    assert.match(await item.textContent(), /微信支付 · \d{4}-\d{2}-\d{2} \d{2}:\d{2}/)
    await screenshot(page, 'payments')
    await item.click()
    await see(page, '缴费凭证')
    await see(page, '款项已到账，账单已缴清')
    await see(page, '微信支付单号')
    await screenshot(page, 'receipt')
    // the printable receipt opens in a new window
    const [receipt] = await Promise.all([
      context.waitForEvent('page'), page.locator('.receipt-open').click()])
    await receipt.waitForLoadState()
    assert.ok((await receipt.content()).includes(bill.number), 'the receipt names the bill')
    await receipt.close()
  })

  it('has a place for messages', async () => {
    await page.goto(`${APP}#/pages/billing/bills/bills`)
    await page.locator('.bills-link-messages').click()
    await see(page, '暂无消息')
    await screenshot(page, 'messages')
  })

  it('does not simulate a payment unless the server says so', async () => {
    await page.evaluate(() => localStorage.clear())
    await signInAs(page, tenant.account)
    for (const answer of [
      { status: 200, body: { available: true, simulation: false } },
      { status: 404, body: { error: { code: 'not_found', message: '未找到', field: null } } },
    ]) {
      await page.route('**/api/v1/payments/config', (route) => route.fulfill({
        status: answer.status, contentType: 'application/json', body: JSON.stringify(answer.body),
      }))
      const before = context.problems.length
      await page.goto(`${APP}#/pages/billing/pay/pay?id=${tenant.bill.id}`)
      await see(page, '请在微信小程序中缴费')
      await see(page, yuan(tenant.bill.amount_due))
      assert.equal(await page.locator('.pay-submit').count(), 0, 'no pay button in a browser')
      context.problems.splice(before).forEach((p) => {
        assert.match(p, /404.*payments\/config/, `only the refused configuration is logged: ${p}`)
      })
      await page.unroute('**/api/v1/payments/config')
    }
    await screenshot(page, 'pay-unsupported')
    const still = await api('GET', `/bills/${tenant.bill.id}`, { token: tenant.token })
    assert.equal(still.data.state, 'unpaid', 'nothing was paid')
  })

  it('logs no errors in the browser', () => {
    assert.deepEqual(context.problems, [])
  })
})
