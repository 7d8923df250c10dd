// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { beforeEach, describe, expect, it } from 'vitest'
import { installFakeUni, json } from './fake-uni.js'
import {
  allUnpaidBills, downloadReceipt, getPayment, listBills, listReceipts, payBill,
  paymentConfig, simulatePayment,
} from '../src/api/endpoints.js'
import { saveSession } from '../src/api/session.js'

let uni

beforeEach(() => {
  uni = installFakeUni()
  saveSession({ token: 'tok-7' })
})

const bill = (id) => ({ id, state: 'unpaid', amount_due: '10.00' })

describe('billing calls', () => {
  it('lists bills of a state with the session', async () => {
    uni.respond = () => json(200, { items: [], total: 0, offset: 0, limit: 20 })
    await listBills({ state: 'paid' })
    expect(uni.requests[0].url).toBe('/demo/api/v1/bills?state=paid&offset=0&limit=20')
    expect(uni.requests[0].header.Authorization).toBe('Bearer tok-7')
  })

  it('reads every page of the unpaid bills', async () => {
    const all = [bill(1), bill(2), bill(3)]
    uni.respond = (request) => {
      const query = new URL(request.url, 'http://x').searchParams
      const offset = Number(query.get('offset'))
      const limit = Number(query.get('limit'))
      return json(200, {
        items: all.slice(offset, offset + limit), total: all.length, offset, limit })
    }
    const data = await allUnpaidBills({ limit: 2 })
    expect(data.items.map((b) => b.id)).toEqual([1, 2, 3])
    expect(data.total).toBe(3)
    expect(uni.requests.length).toBe(2)
  })

  it('orders the payment of a bill', async () => {
    uni.respond = () => json(200, { payment: { id: 4 }, params: { package: 'prepay_id=wx1' } })
    const data = await payBill(12)
    expect(uni.requests[0].method).toBe('POST')
    expect(uni.requests[0].url).toBe('/demo/api/v1/bills/12/pay')
    expect(data.params.package).toBe('prepay_id=wx1')
  })

  it('reads a payment and asks for a simulated one', async () => {
    uni.respond = () => json(200, { id: 4, state: 'pending' })
    await getPayment(4)
    await simulatePayment(4)
    expect(uni.requests.map((r) => `${r.method} ${r.url}`)).toEqual([
      'GET /demo/api/v1/payments/4', 'POST /demo/api/v1/payments/4/simulate'])
  })

  it('reads the payment configuration, null when the server has none', async () => {
    uni.respond = () => json(200, { available: true, simulation: true })
    expect(await paymentConfig()).toEqual({ available: true, simulation: true })
    uni.respond = () => json(404, { error: { code: 'not_found', message: '未找到', field: null } })
    expect(await paymentConfig()).toBe(null)
    uni.respond = () => json(503, { error: { code: 'busy', message: '服务器繁忙', field: null } })
    await expect(paymentConfig()).rejects.toThrow('服务器繁忙')
  })

  it('lists the receipts of my payments a page at a time', async () => {
    uni.respond = () => json(200, { items: [], total: 0, offset: 20, limit: 20 })
    await listReceipts({ offset: 20 })
    expect(uni.requests[0].url).toBe('/demo/api/v1/receipts?offset=20&limit=20')
    expect(uni.requests[0].header.Authorization).toBe('Bearer tok-7')
  })

  it('downloads a receipt at the path of its item, with the session', async () => {
    uni.downloadFile = (options) => {
      uni.requests.push(options)
      setTimeout(() => options.success({ statusCode: 200, tempFilePath: 'blob:r' }), 0)
    }
    expect(await downloadReceipt('/receipts/finance/3', 'html')).toBe('blob:r')
    expect(await downloadReceipt('/payments/4/receipt')).toBe('blob:r')
    expect(uni.requests.map((r) => r.url)).toEqual([
      '/demo/api/v1/receipts/finance/3?format=html', '/demo/api/v1/payments/4/receipt?format=pdf'])
    expect(uni.requests[0].header.Authorization).toBe('Bearer tok-7')
  })

  it('turns a refused receipt into the API error', async () => {
    uni.downloadFile = (options) => {
      setTimeout(() => options.success({ statusCode: 404, tempFilePath: '' }), 0)
    }
    await expect(downloadReceipt('/receipts/finance/3')).rejects.toMatchObject({ status: 404 })
  })
})
