import assert from 'node:assert/strict'
import type { CellarErrorCode } from '@cellar/core'
import { preview } from './preview.js'

/**
 * Asserts that `call()` returns a promise (nothing thrown synchronously) and that the promise
 * rejects with an error whose `code` is `code`. Resolves the error.
 */
export async function assertRejectsAsync(
  call: () => unknown,
  code: CellarErrorCode,
  label: string,
): Promise<unknown> {
  let result: unknown
  try {
    result = call()
  } catch (error) {
    return assert.fail(
      `${label}: expected a rejected promise (code ${code}), but it threw synchronously: ${preview(error)}`,
    )
  }
  if (typeof (result as { then?: unknown } | null)?.then !== 'function') {
    return assert.fail(`${label}: expected a promise, got ${preview(result)}`)
  }
  let value: unknown
  try {
    value = await result
  } catch (error) {
    const actual = (error as { code?: unknown } | null)?.code
    if (actual !== code) {
      assert.fail(`${label}: expected a rejection with code ${code}, got ${preview(error)}`)
    }
    return error
  }
  return assert.fail(
    `${label}: expected a rejection with code ${code}, but it resolved ${preview(value)}`,
  )
}

/** Resolves what `call()` resolves; fails with `label` and the error, in words, if it throws or rejects. */
export async function assertAccepted<T>(call: () => T | Promise<T>, label: string): Promise<T> {
  try {
    return await call()
  } catch (error) {
    return assert.fail(`${label} should be accepted, but it failed with ${preview(error)}`)
  }
}
