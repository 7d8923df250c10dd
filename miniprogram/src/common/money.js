// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.

// Money as the API sends it: decimal strings of yuan ("1234.50").  Amounts
// are parsed from their digits into whole fen and added as integers; they
// never pass through a fractional float (no parseFloat, no toFixed), so
// 0.10 + 0.20 is 0.30 and 12345678.99 keeps its last fen.  Integers rather
// than BigInt: WeChat's older iOS engines have no BigInt, and whole fen are
// exact up to 2^53 (90 trillion yuan).
const DECIMAL = /^(-)?(\d+)(?:\.(\d+))?$/

// Whole fen of a decimal string, rounded half up (away from zero) to the
// fen; null for anything that is not a decimal string.
export function toFen(amount) {
  if (typeof amount !== 'string') {
    return null
  }
  const match = DECIMAL.exec(amount.trim())
  if (!match) {
    return null
  }
  const [, sign, whole, decimals = ''] = match
  let fen = Number(whole) * 100 + Number((decimals + '00').slice(0, 2))
  if (decimals.length > 2 && decimals[2] >= '5') {
    fen += 1
  }
  if (!Number.isSafeInteger(fen)) {
    return null
  }
  return sign && fen !== 0 ? -fen : fen
}

// The decimal string of whole fen: 123450 -> "1234.50"
export function fromFen(fen) {
  if (!Number.isSafeInteger(fen)) {
    throw new TypeError(`not a whole number of fen: ${String(fen)}`)
  }
  const digits = String(Math.abs(fen)).padStart(3, '0')
  return `${fen < 0 ? '-' : ''}${digits.slice(0, -2)}.${digits.slice(-2)}`
}

function checked(amount) {
  const fen = toFen(amount)
  if (fen === null) {
    throw new TypeError(`not a decimal amount: ${String(amount)}`)
  }
  return fen
}

function group(whole) {
  return whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',')
}

// "¥1,234.50" for "1234.5"; "-¥3.00" for "-3"; "" when there is no amount.
// A number is refused: money comes from the API as a decimal string.
export function formatMoney(amount, { symbol = '¥' } = {}) {
  if (amount === null || amount === undefined || amount === '') {
    return ''
  }
  const text = fromFen(checked(amount))
  const negative = text.startsWith('-')
  const [whole, decimals] = (negative ? text.slice(1) : text).split('.')
  return `${negative ? '-' : ''}${symbol}${group(whole)}.${decimals}`
}

// The sum of decimal strings, as a decimal string with 2 decimals.
export function sumMoney(amounts) {
  return fromFen(amounts.reduce((total, amount) => total + checked(amount), 0))
}

export function isZero(amount) {
  return toFen(amount) === 0
}
