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
