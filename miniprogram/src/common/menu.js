// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The home page's function menu (seed order). An entry shows when the
// account has one of its capabilities (the server's permission matrix, sent
// in ME.capabilities) and the back-end module that serves it is installed
// (ME.modules).
export const MENU = [
  {
    key: 'billing', title: '在线缴费', module: 'property_billing',
    capabilities: ['bill.pay'], color: '#ff8a00',
    page: '/pages/billing/bills/bills',
  },
  {
    key: 'repair', title: '设备报修', module: 'property_repair',
    capabilities: ['repair.submit', 'repair.take'], color: '#1677ff',
  },
  {
    key: 'visitor', title: '来访登记', module: 'property_visitor',
    capabilities: ['visitor.invite', 'technician.passage', 'visit.apply'],
    color: '#00b578', page: '/pages/visitor/index',
  },
  {
    key: 'leasing', title: '场地租赁', module: 'property_leasing',
    capabilities: ['leasing.read'], color: '#7b61ff',
  },
  {
    key: 'lost_found', title: '失物招领', module: 'property_community',
    capabilities: ['lost_found'], color: '#f5222d',
  },
  {
    key: 'convenience', title: '便民服务', module: 'property_community',
    capabilities: ['content.read'], color: '#13c2c2',
  },
  {
    key: 'complaint', title: '投诉建议', module: 'property_community',
    capabilities: ['complaint'], color: '#eb2f96',
  },
]

// What the entry is for, by the first of its capabilities the account has.
const DESCRIPTIONS = {
  'bill.pay': '查询并缴纳账单',
  'repair.submit': '报修与进度',
  'repair.take': '抢单与维修',
  'visitor.invite': '邀请访客',
  'visit.apply': '申请来访',
  'technician.passage': '出入登记',
  'leasing.read': '商铺与场地',
  'lost_found': '发布与查看',
  'content.read': '生活信息',
  'complaint': '反馈与处理',
}

export function menuFor(user, menu = MENU) {
  if (!user) {
    return []
  }
  const capabilities = new Set(user.capabilities || [])
  const modules = new Set(user.modules || [])
  return menu
    .filter((entry) => modules.has(entry.module)
      && entry.capabilities.some((c) => capabilities.has(c)))
    .map((entry) => {
      const granted = entry.capabilities.find((c) => capabilities.has(c))
      return {
        key: entry.key,
        title: entry.title,
        color: entry.color,
        icon: entry.title.charAt(0),
        description: DESCRIPTIONS[granted] || '',
        url: entryUrl(entry),
      }
    })
}

// Later modules give their entries a page; until then a placeholder page.
export function entryUrl(entry) {
  return entry.page || `/pages/feature/feature?key=${entry.key}`
}

export function menuEntry(key) {
  return MENU.find((entry) => entry.key === key) || null
}
