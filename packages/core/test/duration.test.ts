import { describe, expect, test } from 'vitest'
import { decodeCounter, parseDuration, requireCounter, resolveTtl } from '../src/index.js'

describe('durations and TTLs', () => {
  test('parses milliseconds and unit strings', () => {
    expect(parseDuration(250)).toBe(250)
    expect(parseDuration('250')).toBe(250)
    expect(parseDuration('30s')).toBe(30_000)
    expect(parseDuration('5m')).toBe(300_000)
    expect(parseDuration('1.5h')).toBe(5_400_000)
  })

  test('TTL semantics: omitted → default, null/forever → never, <= 0 kept as expired', () => {
    expect(resolveTtl(undefined)).toBeNull()
    expect(resolveTtl(undefined, '1m')).toBe(60_000)
    expect(resolveTtl(null, '1m')).toBeNull()
    expect(resolveTtl('forever')).toBeNull()
    expect(resolveTtl(0)).toBe(0)
    expect(resolveTtl(-5)).toBe(-5)
  })

  test('NaN, non-numbers and bad strings are E_INVALID_ARGUMENT naming the key', () => {
    expect(() => resolveTtl(Number.NaN, null, 'k')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT', key: 'k' }),
    )
    expect(() => resolveTtl('soon')).toThrow(/not a duration/)
    expect(() => resolveTtl({} as unknown as number)).toThrow(/must be milliseconds/)
  })

  test('counters are decimal ASCII or numbers', () => {
    const ascii = (text: string) => new TextEncoder().encode(text)
    expect(decodeCounter(ascii('-42'))).toBe(-42)
    expect(decodeCounter(7)).toBe(7)
    expect(decodeCounter(ascii('4.2'))).toBeUndefined()
    expect(decodeCounter(ascii('-'))).toBeUndefined()
    expect(decodeCounter(ascii('99999999999999999999'))).toBeUndefined()
    expect(() => requireCounter(ascii('abc'), 'k')).toThrow(
      expect.objectContaining({ code: 'E_NOT_A_NUMBER', key: 'k' }),
    )
  })
})
