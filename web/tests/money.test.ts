import { describe, expect, it } from 'vitest'
import { formatCents, toCents, totalCents } from '@/utils/money'

describe('money', () => {
  it('parses decimal strings to integer cents', () => {
    expect(toCents('9.90')).toBe(990)
    expect(toCents('0.1')).toBe(10)
    expect(toCents('12')).toBe(1200)
    expect(toCents('0.07')).toBe(7)
    expect(toCents('abc')).toBeNull()
    expect(toCents('1.234')).toBeNull()
  })

  it('formats cents with two decimals', () => {
    expect(formatCents(990)).toBe('9.90')
    expect(formatCents(7)).toBe('0.07')
    expect(formatCents(0)).toBe('0.00')
    expect(formatCents(123456)).toBe('1234.56')
  })

  it('sums without float noise', () => {
    // 0.1 + 0.2 in floats is 0.30000000000000004
    expect(formatCents(totalCents([{ price: '0.10', quantity: 1 }, { price: '0.20', quantity: 1 }]))).toBe('0.30')
    expect(formatCents(totalCents([{ price: '19.99', quantity: 3 }, { price: '0.01', quantity: 7 }]))).toBe('60.04')
  })
})
