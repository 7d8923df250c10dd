// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { defineConfig } from 'vitest/config'

// Unit tests of the client-side logic run in plain Node, without the uni
// plugin: tests install a fake `uni` global (tests/fake-uni.js).
export default defineConfig({
  define: {
    __PROPERTY_DB__: JSON.stringify('demo'),
    __PROPERTY_API_ORIGIN__: JSON.stringify('https://property.test'),
  },
  test: {
    include: ['tests/**/*.test.js'],
    environment: 'node',
  },
})
