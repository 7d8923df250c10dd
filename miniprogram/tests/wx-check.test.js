// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, describe, expect, it } from 'vitest'
import { checkMiniProgram } from '../scripts/wx-check.mjs'

// The checker must fail on broken markup, or a green build proves nothing.
let root

function miniProgram(files) {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'wx-check-'))
  const all = {
    'app.json': JSON.stringify({ pages: ['pages/a/a'] }),
    'app.wxss': 'page { color: #333; }',
    'pages/a/a.json': '{}',
    'pages/a/a.wxml': '<view class="a"><text>{{ title }}</text></view>',
    'pages/a/a.wxss': '.a { padding: 20rpx; }',
    ...files,
  }
  for (const [name, content] of Object.entries(all)) {
    fs.mkdirSync(path.dirname(path.join(root, name)), { recursive: true })
    fs.writeFileSync(path.join(root, name), content)
  }
  return root
}

afterEach(() => {
  fs.rmSync(root, { recursive: true, force: true })
})

describe('wx-check', () => {
  it('accepts valid WXML and WXSS', () => {
    expect(checkMiniProgram(miniProgram({}))).toEqual(
      { wxml: 1, wxss: 2, pages: 1 })
  })

  it('fails on an unclosed tag', () => {
    const dir = miniProgram({ 'pages/a/a.wxml': '<view><text>x</view>' })
    expect(() => checkMiniProgram(dir)).toThrow(/pages\/a\/a\.wxml:1:\d+/)
  })

  it('fails on a broken binding', () => {
    const dir = miniProgram({ 'pages/a/a.wxml': '<view wx:if="{{ a">x</view>' })
    expect(() => checkMiniProgram(dir)).toThrow(/pages\/a\/a\.wxml/)
  })

  it('fails on broken WXSS', () => {
    const dir = miniProgram({ 'pages/a/a.wxss': '.a { color: red' })
    expect(() => checkMiniProgram(dir)).toThrow(/pages\/a\/a\.wxss/)
  })

  it('fails on a page without template', () => {
    const dir = miniProgram({ 'app.json': JSON.stringify({ pages: ['pages/a/a', 'pages/b/b'] }) })
    expect(() => checkMiniProgram(dir)).toThrow(/pages\/b\/b\.wxml/)
  })
})
