// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// The QR code of a pass as data the page draws with views (no canvas, so
// the mini-program and H5 draw it alike): each row is a list of runs of
// dark or light modules.
import qrcode from 'qrcode-generator'

// The modules of text at error correction level M: rows of booleans.
export function qrMatrix(text, level = 'M') {
  const qr = qrcode(0, level)
  qr.addData(text, 'Byte')
  qr.make()
  const size = qr.getModuleCount()
  const rows = []
  for (let r = 0; r < size; r += 1) {
    const row = []
    for (let c = 0; c < size; c += 1) {
      row.push(qr.isDark(r, c))
    }
    rows.push(row)
  }
  return rows
}

// Consecutive modules of one colour merged: [[{dark, span}]], far fewer
// views than one per module.
export function qrRuns(matrix) {
  return matrix.map((row) => {
    const runs = []
    for (const dark of row) {
      const last = runs[runs.length - 1]
      if (last && last.dark === dark) {
        last.span += 1
      } else {
        runs.push({ dark, span: 1 })
      }
    }
    return runs
  })
}

export const QUIET_ZONE = 4

// Whole pixels per module (a blurred edge between modules is harder to
// scan): as large as fits in `width` with the quiet zone, at least 2.
export function moduleSize(modules, width) {
  return Math.max(2, Math.floor(width / (modules + 2 * QUIET_ZONE)))
}
