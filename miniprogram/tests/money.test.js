// This file is part of the property platform.  The COPYRIGHT file at the top
// level of this repository contains the full copyright notices and license terms.
import { describe, expect, it } from 'vitest'
import {
  formatMoney, fromFen, isZero, sumMoney, toFen,
} from '../src/common/money.js'

describe('money', () => {
  it('shows decimal strings as yuan with 2 decimals', () => {
    expect(formatMoney('356.50')).toBe('¥356.50')
    expect(formatMoney('0.00')).toBe('¥0.00')
    expect(formatMoney('7')).toBe('¥7.00')
    expect(formatMoney('12.3')).toBe('¥12.30')
  })

  it('groups thousands', () => {
    expect(formatMoney('1234.50')).toBe('¥1,234.50')
    expect(formatMoney('1234567.89')).toBe('¥1,234,567.89')
    expect(formatMoney('999.99')).toBe('¥999.99')
  })

  it('puts the sign before the currency', () => {
    expect(formatMoney('-3.00')).toBe('-¥3.00')
    expect(formatMoney('-0.00')).toBe('¥0.00')
  })

  it('keeps every fen of large amounts', () => {
    expect(formatMoney('90071992547409.91')).toBe('¥90,071,992,547,409.91')
    expect(sumMoney(['12345678.99', '0.01'])).toBe('12345679.00')
  })

  it('rounds extra decimals half up to the fen', () => {
    expect(formatMoney('1.005')).toBe('¥1.01')
    expect(formatMoney('1.004')).toBe('¥1.00')
    expect(formatMoney('-1.005')).toBe('-¥1.01')
  })

  it('adds amounts without float errors', () => {
    // 0.1 + 0.2 is 0.30000000000000004 in floats
    expect(sumMoney(['0.10', '0.20'])).toBe('0.30')
    expect(sumMoney(['19.99', '0.01', '100.10'])).toBe('120.10')
    expect(sumMoney([])).toBe('0.00')
    expect(sumMoney(['5.00', '-7.50'])).toBe('-2.50')
  })

  it('refuses floats and malformed amounts', () => {
    expect(() => formatMoney(12.3)).toThrow(TypeError)
    expect(() => formatMoney('12,30')).toThrow(TypeError)
    expect(() => formatMoney('abc')).toThrow(TypeError)
    expect(() => sumMoney(['1.00', 2])).toThrow(TypeError)
    expect(toFen(0.3)).toBe(null)
    expect(toFen('1e3')).toBe(null)
  })

  it('shows nothing for a missing amount', () => {
    expect(formatMoney(null)).toBe('')
    expect(formatMoney(undefined)).toBe('')
    expect(formatMoney('')).toBe('')
  })

  it('converts between decimal strings and whole fen', () => {
    expect(toFen('356.50')).toBe(35650)
    expect(toFen(' 0.07 ')).toBe(7)
    expect(toFen('-2.5')).toBe(-250)
    expect(fromFen(35650)).toBe('356.50')
    expect(fromFen(7)).toBe('0.07')
    expect(fromFen(-250)).toBe('-2.50')
    expect(() => fromFen(0.5)).toThrow(TypeError)
    expect(isZero('0.00')).toBe(true)
    expect(isZero('0.01')).toBe(false)
  })

  it('uses another symbol when asked', () => {
    expect(formatMoney('8.00', { symbol: '' })).toBe('8.00')
  })
})
