// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { describe, expect, it } from 'vitest'
import { createRenderer, createSSRApp, h } from 'vue'
import { renderToString } from 'vue/server-renderer'
import { createPager } from '../src/common/pager.js'
import TextField from '../src/components/text-field/text-field.vue'
import VisitorVisitList from '../src/components/visitor-visit-list/visitor-visit-list.vue'

// The markup of the components shared by the visitor forms and lists, as Vue
// renders it (uni's tags left as elements): what the browser tests find.
function render(component, props) {
  return renderToString(createSSRApp({ render: () => h(component, props) }))
}

// A component mounted on plain objects ({tag, props, children}), whose
// handlers (props.onTap, props.onInput ...) a test calls as uni would.
const { createApp: createTree } = createRenderer({
  createElement: (tag) => ({ tag, props: {}, children: [], parent: null }),
  createText: (text) => ({ text, children: [], parent: null }),
  createComment: (text) => ({ comment: text, children: [], parent: null }),
  setText: (node, text) => { node.text = text },
  setElementText: (node, text) => { node.children = [{ text, children: [], parent: node }] },
  insert(child, parent, anchor) {
    child.parent = parent
    const at = anchor ? parent.children.indexOf(anchor) : -1
    parent.children.splice(at < 0 ? parent.children.length : at, 0, child)
  },
  remove(child) {
    if (child.parent) {
      child.parent.children.splice(child.parent.children.indexOf(child), 1)
    }
  },
  parentNode: (node) => node.parent,
  nextSibling: (node) => {
    const siblings = node.parent ? node.parent.children : []
    return siblings[siblings.indexOf(node) + 1] || null
  },
  patchProp(node, key, previous, next) {
    node.props[key] = next
  },
})

function mount(component, props) {
  const events = []
  const listeners = Object.fromEntries(['onChange', 'onOpen', 'onRetry'].map(
    (name) => [name, (...args) => events.push([name, ...args])]))
  const root = { tag: 'root', props: {}, children: [], parent: null }
  createTree({ render: () => h(component, { ...props, ...listeners }) }).mount(root)
  const all = (node = root) => [node, ...node.children.flatMap(all)]
  const find = (tag, test = () => true) => all().find((n) => n.tag === tag && test(n))
  return { events, find }
}

const hasClass = (name) => (node) => String(node.props.class || '').split(' ').includes(name)

describe('text field', () => {
  it('shows its label over the input', async () => {
    const html = await render(TextField, {
      label: '访客手机号', type: 'number', value: '137', maxlength: 11, placeholder: '请输入11位手机号',
    })
    expect(html).toMatch(/^<view class="field"><text class="field-label">访客手机号<\/text><input /)
    expect(html).toContain('class="field-input"')
    expect(html).toContain('type="number"')
    expect(html).toContain('value="137"')
    expect(html).toContain('maxlength="11"')
    expect(html).toContain('placeholder="请输入11位手机号"')
    expect(html).not.toContain('field-error')
  })

  it('shows its error under the input', async () => {
    const html = await render(TextField, { label: '车牌号（选填）', error: '车牌号应为5至12位，如 粤B12345' })
    expect(html).toMatch(/<input [^>]*type="text"[^>]*><text class="field-error">车牌号应为5至12位，如 粤B12345<\/text><\/view>$/)
  })

  it('tells what is typed in', () => {
    const { events, find } = mount(TextField, { label: '访客姓名' })
    find('input').props.onInput({ detail: { value: '李访客' } })
    expect(events).toEqual([['onChange', '李访客']])
  })

  it('drops the line under the last field of a card', async () => {
    expect(await render(TextField, { label: '用途（选填）', last: true }))
      .toMatch(/^<view class="field field-last">/)
  })
})

describe('visit list', () => {
  const pager = (items, total = items.length) => ({
    ...createPager(), items, total, loaded: true })
  const visit = (id, state) => ({
    id, state, origin: 'invitation', visitor_name: `访客${id}`, purpose: '送货',
    valid_from: '2025-03-10T01:30:00Z', valid_to: '2025-03-10T05:30:00Z',
    estate: { name: '科技园' }, unit: { code: 'A-101' },
  })

  it('shows the state tabs with the current one on', async () => {
    const html = await render(VisitorVisitList, { pager: pager([]), state: 'requested' })
    expect(html).toContain('<view class="vtab vtab-on" data-state="requested"><text>待审批</text></view>')
    expect(html).toContain('<view class="vtab" data-state><text>全部</text></view>')
  })

  it('shows the visits with their ids and the count once all are read', async () => {
    const html = await render(VisitorVisitList, {
      pager: pager([visit(3, 'approved'), visit(4, 'completed')]), as: 'host' })
    expect(html).toContain('<view class="card vitem" data-id="3">')
    expect(html).toContain('访客3（邀请）')
    expect(html).toContain('已到访')
    expect(html).toContain('共 2 条')
  })

  it('shows what the visitor visits for the visitor', async () => {
    const html = await render(VisitorVisitList, { pager: pager([visit(3, 'requested')]), as: 'visitor' })
    expect(html).toContain('拜访 A-101')
    expect(html).not.toContain('访客3')
  })

  it('shows no count while more visits are to be read', async () => {
    const html = await render(VisitorVisitList, { pager: pager([visit(3, 'approved')], 21) })
    expect(html).not.toContain('共 21 条')
  })

  it('says when there is no visit', async () => {
    const html = await render(VisitorVisitList, { pager: pager([]), emptyText: '暂无访客记录' })
    expect(html).toContain('<text class="state-text">暂无访客记录</text>')
    expect(html).not.toContain('vvlist-end')
  })

  it('shows the error of the list with a retry', async () => {
    const html = await render(VisitorVisitList, {
      pager: { ...createPager(), error: '网络连接失败，请检查网络后重试' } })
    expect(html).toContain('网络连接失败，请检查网络后重试')
    expect(html).toContain('重试')
  })
})

describe('visit list events', () => {
  const items = [{ id: 3, state: 'approved', visitor_name: '李访客' }]
  const pager = { ...createPager(), items, total: 1, loaded: true }

  it('tells the tab chosen', () => {
    const { events, find } = mount(VisitorVisitList, { pager })
    find('view', (n) => n.props['data-state'] === 'completed').props.onTap()
    expect(events).toEqual([['onChange', 'completed']])
  })

  it('tells the visit opened', () => {
    const { events, find } = mount(VisitorVisitList, { pager })
    find('view', hasClass('vitem')).props.onTap()
    expect(events).toEqual([['onOpen', items[0]]])
  })

  it('tells a retry after an error', () => {
    const { events, find } = mount(VisitorVisitList, { pager: { ...createPager(), error: '网络连接失败' } })
    find('button', hasClass('state-retry')).props.onTap()
    expect(events).toEqual([['onRetry']])
  })
})
