import { InvalidArgumentError } from 'commander'
import { describe, expect, it } from 'vitest'
import { integerOption } from './integer-option.js'

describe('integerOption', () => {
  const seed = integerOption('--seed', 0)
  const workers = integerOption('--workers', 1)

  it('reads plain decimal digits', () => {
    expect(seed('0')).toBe(0)
    expect(seed('42')).toBe(42)
    expect(seed('007')).toBe(7)
    expect(seed(String(Number.MAX_SAFE_INTEGER))).toBe(Number.MAX_SAFE_INTEGER)
    expect(workers('16')).toBe(16)
  })

  // Each of these is a number to Number(): '' and ' ' are 0, '0x10' 16, '1e3' 1000.
  it.each([
    ['', 'is empty'],
    [' ', 'is empty'],
    ['\t', 'is empty'],
    ['0x10', "got '0x10'"],
    ['0b11', "got '0b11'"],
    ['1e3', "got '1e3'"],
    ['1e30', "got '1e30'"],
    ['1.0', "got '1.0'"],
    ['+3', "got '+3'"],
    ['-1', "got '-1'"],
    [' 3', "got ' 3'"],
    ['3 ', "got '3 '"],
    ['Infinity', "got 'Infinity'"],
    ['abc', "got 'abc'"],
    ['99999999999999999999', 'at most 9007199254740991'],
  ])("refuses '%s', naming the option", (value, message) => {
    let err: unknown
    try {
      seed(value)
    } catch (e) {
      err = e
    }
    expect(err, `'${value}' was accepted`).toBeInstanceOf(InvalidArgumentError)
    expect((err as Error).message).toContain('--seed')
    expect((err as Error).message).toContain(message)
  })

  it('refuses a number below the least the option takes', () => {
    expect(() => workers('0')).toThrow("--workers must be a whole number ≥ 1 in decimal digits, got '0'")
  })

  it('refuses a number above the most the option takes, saying why', () => {
    // 10^8 s as a lock of milliseconds overflows Node's 32-bit timers, which then fire at once.
    const lock = integerOption('--lock-seconds', 1, { value: 3600, why: 'an hour' })
    expect(lock('3600')).toBe(3600)
    expect(() => lock('3601')).toThrow("--lock-seconds must be at most 3600 (an hour), got '3601'")
    expect(() => lock('100000000')).toThrow('at most 3600')
  })
})
