// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { defineConfig } from 'vitest/config'
import { compileScript, compileTemplate, parse, rewriteDefault } from 'vue/compiler-sfc'

// The tags of uni's components, left as elements when a test renders a
// component to HTML with Vue's own compiler.
const UNI_TAGS = new Set(['view', 'text', 'input', 'button', 'picker',
  'scroll-view', 'image', 'block'])

// Single-file components for the tests: script and template, no style.
function vueFiles() {
  return {
    name: 'vue-files',
    transform(code, id) {
      if (!id.endsWith('.vue')) {
        return null
      }
      const { descriptor } = parse(code, { filename: id })
      const script = compileScript(descriptor, { id })
      const template = compileTemplate({
        id, filename: id, source: descriptor.template.content,
        compilerOptions: { isCustomElement: (tag) => UNI_TAGS.has(tag) },
      })
      return `${rewriteDefault(script.content, '__component')}\n${template.code}\n`
        + '__component.render = render\nexport default __component\n'
    },
  }
}

// Unit tests of the client-side logic run in plain Node, without the uni
// plugin: tests install a fake `uni` global (tests/fake-uni.js).
export default defineConfig({
  plugins: [vueFiles()],
  define: {
    __PROPERTY_DB__: JSON.stringify('demo'),
    __PROPERTY_API_ORIGIN__: JSON.stringify('https://property.test'),
  },
  test: {
    include: ['tests/**/*.test.js'],
    environment: 'node',
  },
})
