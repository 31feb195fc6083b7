import assert from 'node:assert/strict'
import { decodeCounter, encodeCounter, type Lock, type LockOptions, type Store } from '@cellar/core'
import type { SuiteSettings } from '../types.js'

/** Skip reason for groups that need a store that keeps what it is given. */
export function needsRetention(settings: SuiteSettings): string | undefined {
  return settings.capabilities.retainsValues
    ? undefined
    : 'the store keeps nothing (retainsValues: false); the "discards" group covers it'
}

/** A counter as the store itself would hold it: a number for raw stores, decimal bytes otherwise. */
export function counterValue(settings: SuiteSettings, value: number): unknown {
  return settings.capabilities.raw ? value : encodeCounter(value)
}

/** Reads a key and asserts it holds the integer counter `expected` (bytes or number). */
export async function assertCounter(
  store: Store<unknown>,
  key: string,
  expected: number,
): Promise<void> {
  const stored = await store.get(key)
  assert.notEqual(stored, undefined, `counter "${key}" should be present`)
  assert.equal(decodeCounter(stored), expected, `counter "${key}" should read back as ${expected}`)
}

/** The store's lock, failing clearly when `locks` is declared but `lock()` is missing. */
export function lockOf(store: Store<unknown>, name: string, options?: LockOptions): Lock {
  if (typeof store.lock !== 'function') {
    assert.fail(`store "${store.name}" declares locks but has no lock() method`)
  }
  return store.lock(name, options)
}

/** A size that is safe to allocate and below the store's limit, for "large value" tests. */
export function largeSize(settings: SuiteSettings, wanted: number): number {
  return Math.min(wanted, settings.capabilities.maxValueSize)
}

/** Skip reason for tests that read `ttl()`; `undefined` when the store declares `readsTtl`. */
export function ttlUnreadable(settings: SuiteSettings): string | undefined {
  return settings.capabilities.readsTtl === false
    ? 'the store cannot read a TTL back (readsTtl: false)'
    : undefined
}

/** Asserts a `ttl()` result is a whole number of milliseconds in `(0, max]`. */
export function assertRemaining(actual: unknown, max: number, message?: string): void {
  const about = message === undefined ? '' : `${message}: `
  assert.ok(
    typeof actual === 'number' && Number.isInteger(actual) && actual > 0 && actual <= max,
    `${about}expected a whole number of ms in (0, ${max}], got ${String(actual)}`,
  )
}

/**
 * True while a read that has just resolved certainly ran before an entry written after `start`
 * with `ttl` could expire; on a machine so loaded that it did not, a presence check proves
 * nothing and is left out (the absence check that follows still runs).
 */
export function stillWithin(start: number, ttl: number): boolean {
  return Date.now() - start < ttl
}

/** Sleeps until `at` ms after `start` (at once when that moment has passed). */
export function sleepUntil(start: number, at: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, Math.max(0, at - (Date.now() - start))))
}
