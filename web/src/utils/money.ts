/**
 * Money for display. Prices arrive as decimal strings ("9.90"); sums are done in integer
 * cents so the running total never shows float noise. The server computes the real total.
 */

/** "9.90" → 990, "12" → 1200, "0.5" → 50. Returns null for anything that is not a plain amount. */
export function toCents(amount: string): number | null {
  const m = /^\s*(-?)(\d+)(?:\.(\d{0,2}))?\s*$/.exec(amount)
  if (!m) return null
  const whole = Number.parseInt(m[2] ?? '0', 10)
  const frac = Number.parseInt((m[3] ?? '').padEnd(2, '0') || '0', 10)
  const cents = whole * 100 + frac
  return m[1] === '-' ? -cents : cents
}

/** 990 → "9.90". */
export function formatCents(cents: number): string {
  const neg = cents < 0
  const abs = Math.abs(Math.trunc(cents))
  const whole = Math.floor(abs / 100)
  const frac = String(abs % 100).padStart(2, '0')
  return `${neg ? '-' : ''}${whole}.${frac}`
}

/** Σ price × quantity, in cents. Unparseable prices count as zero. */
export function totalCents(lines: { price: string; quantity: number }[]): number {
  return lines.reduce((sum, l) => sum + (toCents(l.price) ?? 0) * Math.max(0, Math.trunc(l.quantity)), 0)
}
