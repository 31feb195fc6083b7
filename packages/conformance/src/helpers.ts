import assert from 'node:assert/strict'
import { randomBytes } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import type { CellarErrorCode } from '@cellar/core'
import { preview } from './preview.js'

const encoder = new TextEncoder()

/** Resolves after `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return delay(ms)
}

/** A random key (or lock name) `<prefix>-<12 hex chars>`, unique enough to never collide. */
export function randomKey(prefix = 'k'): string {
  return `${prefix}-${randomBytes(6).toString('hex')}`
}

/** UTF-8 bytes of `text`. */
export function bytes(text: string): Uint8Array {
  return encoder.encode(text)
}

/**
 * Asserts `actual` is a `Uint8Array` (a `Buffer` counts) with exactly the bytes of `expected`.
 */
export function assertSameBytes(actual: unknown, expected: Uint8Array, message?: string): void {
  const prefix = message === undefined ? '' : `${message}: `
  if (!(actual instanceof Uint8Array)) {
    assert.fail(`${prefix}expected ${preview(expected)}, got ${preview(actual)}`)
  }
  const equal =
    actual.byteLength === expected.byteLength &&
    Buffer.from(actual.buffer, actual.byteOffset, actual.byteLength).equals(
      Buffer.from(expected.buffer, expected.byteOffset, expected.byteLength),
    )
  if (!equal) assert.fail(`${prefix}expected ${preview(expected)}, got ${preview(actual)}`)
}

/**
 * Asserts that `action` rejects (or throws) an error whose `code` is `code`. Matching the code,
 * not the class, keeps working when the adapter and the suite load different copies of core.
 */
export async function assertRejectsWithCode(
  action: () => unknown,
  code: CellarErrorCode,
  message?: string,
): Promise<unknown> {
  const prefix = message === undefined ? '' : `${message}: `
  let result: unknown
  try {
    result = await action()
  } catch (error) {
    const actual = (error as { code?: unknown } | null)?.code
    if (actual !== code) {
      assert.fail(`${prefix}expected an error with code ${code}, got ${preview(error)}`)
    }
    return error
  }
  return assert.fail(`${prefix}expected a rejection with code ${code}, resolved ${preview(result)}`)
}

/** Asserts a value read from a store is a miss. */
export function assertMiss(actual: unknown, message?: string): void {
  assert.equal(actual, undefined, message ?? `expected a miss, got ${preview(actual)}`)
}
