// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// Compiles every .wxml and .wxss of a built mini-program with WeChat's own
// compilers (wcc / wcsc from npm miniprogram-compiler), as WeChat DevTools
// does, and renders each page's template once: a markup error fails.
// Usage: node scripts/wx-check.mjs dist/build/mp-weixin
import fs from 'node:fs'
import path from 'node:path'
import { createRequire } from 'node:module'
import { fileURLToPath } from 'node:url'

const require = createRequire(import.meta.url)

function list(root, extension) {
  const result = []
  const walk = (dir) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
      const full = path.join(dir, entry.name)
      if (entry.isDirectory()) {
        walk(full)
      } else if (entry.name.endsWith(extension)) {
        result.push(path.relative(root, full).split(path.sep).join('/'))
      }
    }
  }
  walk(root)
  return result.sort()
}

export function checkMiniProgram(root) {
  root = path.resolve(root)
  if (!fs.existsSync(path.join(root, 'app.json'))) {
    throw new Error(`${root}: no app.json, not a mini-program build`)
  }
  const { wxmlToJs } = require('miniprogram-compiler')
  const wxml = list(root, '.wxml')
  const wxss = list(root, '.wxss')
  const app = JSON.parse(fs.readFileSync(path.join(root, 'app.json'), 'utf8'))

  // wcc throws with "file:line:column: message" on a markup error.
  const sandbox = {}
  const gwx = new Function('global', 'window', wxmlToJs(root, { wxmlList: wxml }))(
    sandbox, sandbox)
  for (const page of app.pages) {
    const file = `${page}.wxml`
    if (!wxml.includes(file)) {
      throw new Error(`${file}: page listed in app.json has no template`)
    }
    const render = gwx(file)
    if (typeof render !== 'function') {
      throw new Error(`${file}: wcc produced no template function`)
    }
    render({}, {}, {})
  }

  // wcsc itself, not the wrapper: the wrapper hides wcsc's message.
  const wcsc = require('miniprogram-compiler/src/wcsc.js')
  const styles = wcsc(root, wxss.map((file) => file.slice(0, -'.wxss'.length)))
  if (styles instanceof Error) {
    throw styles
  }
  for (const file of wxss) {
    if (typeof styles[file] !== 'string') {
      throw new Error(`${file}: wcsc produced no style`)
    }
  }
  return { wxml: wxml.length, wxss: wxss.length, pages: app.pages.length }
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const root = process.argv[2] || 'dist/build/mp-weixin'
  try {
    const counts = checkMiniProgram(root)
    console.log(`[wx-check] ${counts.wxml} wxml (${counts.pages} pages) `
      + `and ${counts.wxss} wxss compiled by wcc/wcsc`)
  } catch (error) {
    console.error(`[wx-check] ${error.message}`)
    process.exit(1)
  }
}
