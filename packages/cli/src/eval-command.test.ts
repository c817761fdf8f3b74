import { describe, expect, it } from 'vitest'
import { readable } from './eval-command.js'

describe('eval on a terminal', () => {
  it('prints 12 significant digits, hiding the last-bit noise of a sum and keeping what precision there is', () => {
    // Sums land a bit off their decimals: 0.1 + 0.2, and a share of samples summed in percent.
    expect(String(0.1 + 0.2)).toBe('0.30000000000000004')
    expect(readable(0.1 + 0.2)).toBe('0.3')
    expect(readable(59.150000000000006)).toBe('59.15')
    expect(readable(1 / 3)).toBe('0.333333333333')
    expect(readable(1.228528789442627)).toBe('1.22852878944')
    expect(readable(-2.5e-9)).toBe('-2.5e-9')
    expect(readable(0)).toBe('0')
    expect(readable(123456789012345)).toBe('123456789012000')
  })
})
