// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { MENU, menuEntry, menuFor } from '../src/common/menu.js'

// The permission matrix as the server declares it (PERMISSIONS in the API
// toolkit), read from its source so the two cannot drift apart.
const API = path.resolve(__dirname, '../../addons/property_community/api.py')

function serverMatrix() {
  const source = fs.readFileSync(API, 'utf8')
  const block = source.match(/^PERMISSIONS = \{\n([\s\S]*?)^\s*\}/m)[1]
  const roles = { guest: [], merchant: [], tenant: [], technician: [] }
  for (const [, capability, expression] of block.matchAll(/'([\w.]+)':\s*(.+),/g)) {
    const granted = new Set()
    if (expression.includes('ALL_ROLES')) {
      Object.keys(roles).forEach((r) => granted.add(r))
    }
    if (expression.includes('CERTIFIED')) {
      granted.add('merchant').add('tenant')
    }
    for (const [, role] of expression.matchAll(/'(\w+)'/g)) {
      granted.add(role)
    }
    granted.forEach((role) => roles[role].push(capability))
  }
  return roles
}

const ALL_MODULES = ['property_billing', 'property_community',
  'property_leasing', 'property_repair', 'property_visitor']
const SEED_ORDER = ['在线缴费', '设备报修', '来访登记', '场地租赁', '失物招领',
  '便民服务', '投诉建议']

const matrix = serverMatrix()
const user = (role, modules = ALL_MODULES) => ({
  role, capabilities: matrix[role], modules })
const titles = (u) => menuFor(u).map((entry) => entry.title)

describe('home menu', () => {
  it('lists the seed menu in its order', () => {
    expect(MENU.map((entry) => entry.title)).toEqual(SEED_ORDER)
  })

  it('uses only capabilities the server knows', () => {
    const known = new Set(Object.values(matrix).flat())
    for (const entry of MENU) {
      for (const capability of entry.capabilities) {
        expect(known, `${entry.title}: ${capability}`).toContain(capability)
      }
    }
  })

  it('shows a merchant or tenant every service', () => {
    expect(titles(user('merchant'))).toEqual(SEED_ORDER)
    expect(titles(user('tenant'))).toEqual(SEED_ORDER)
  })

  it('shows a guest the public services only', () => {
    expect(titles(user('guest'))).toEqual(['来访登记', '场地租赁', '便民服务'])
  })

  it('shows a technician the technician services only', () => {
    const menu = menuFor(user('technician'))
    expect(menu.map((entry) => entry.title)).toEqual(
      ['设备报修', '来访登记', '场地租赁', '失物招领', '便民服务'])
    const repair = menu.find((entry) => entry.key === 'repair')
    expect(repair.description).toBe('抢单与维修')
    const visitor = menu.find((entry) => entry.key === 'visitor')
    expect(visitor.description).toBe('出入登记')
  })

  it('describes each entry by what the role does with it', () => {
    const describe = (role, key) => menuFor(user(role))
      .find((entry) => entry.key === key).description
    expect(describe('merchant', 'visitor')).toBe('邀请访客')
    expect(describe('guest', 'visitor')).toBe('申请来访')
    expect(describe('tenant', 'repair')).toBe('报修与进度')
  })

  it('hides entries whose module is not installed', () => {
    const community = ['property_community']
    expect(titles(user('merchant', community))).toEqual(
      ['失物招领', '便民服务', '投诉建议'])
    expect(titles(user('technician', community))).toEqual(
      ['失物招领', '便民服务'])
    expect(titles(user('guest', community))).toEqual(['便民服务'])
    expect(titles(user('merchant', []))).toEqual([])
  })

  it('shows nothing without an account or capabilities', () => {
    expect(menuFor(null)).toEqual([])
    expect(menuFor({ role: 'guest', modules: ALL_MODULES })).toEqual([])
  })

  it('links every entry to its page, else the placeholder', () => {
    for (const entry of menuFor(user('merchant'))) {
      const page = menuEntry(entry.key).page
      expect(entry.url).toBe(page || `/pages/feature/feature?key=${entry.key}`)
      expect(menuEntry(entry.key).title).toBe(entry.title)
    }
    expect(menuEntry('nothing')).toBe(null)
  })

  it('opens my bills from 在线缴费', () => {
    const billing = menuFor(user('tenant')).find((entry) => entry.title === '在线缴费')
    expect(billing.url).toBe('/pages/billing/bills/bills')
  })

  it('links only to pages the app has', () => {
    const pages = JSON.parse(fs.readFileSync(
      path.resolve(__dirname, '../src/pages.json'), 'utf8')).pages.map((p) => `/${p.path}`)
    for (const entry of menuFor(user('merchant'))) {
      expect(pages, entry.title).toContain(entry.url.split('?')[0])
    }
  })
})
