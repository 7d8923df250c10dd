// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { defineConfig } from 'vite'
import uni from '@dcloudio/vite-plugin-uni'

// Where the app finds the API, fixed at build time:
// - H5 is served by trytond itself, so it calls the same origin;
// - the mini-program needs the full https origin of the server.
const database = process.env.PROPERTY_DB || 'demo'
const apiOrigin = process.env.PROPERTY_API_ORIGIN || 'http://127.0.0.1:8000'

export default defineConfig({
  plugins: [uni()],
  define: {
    __PROPERTY_DB__: JSON.stringify(database),
    __PROPERTY_API_ORIGIN__: JSON.stringify(apiOrigin),
  },
})
