import assert from 'node:assert/strict'
import { setTimeout as sleep } from 'node:timers/promises'
import { type CellarError, isCellarError } from '@cellar/core'

/** The error an operation rejected with; throws if it resolved instead. */
export async function failure(operation: Promise<unknown>): Promise<CellarError> {
  const outcome = await operation.then(
    () => undefined,
    (error: unknown) => error,
  )
  assert.ok(outcome !== undefined, 'the operation should have failed')
  return outcome as CellarError
}

/**
 * Asserts the typed error a store raises when its server is unreachable: `E_BACKEND_UNAVAILABLE`,
 * a message starting with the store's tag (`[cellar:redis]`), and the driver's error as cause.
 */
export function assertUnavailable(error: CellarError, store: string): void {
  assert.ok(isCellarError(error, 'E_BACKEND_UNAVAILABLE'), String(error))
  assert.ok(
    error.message.startsWith(`[cellar:${store}] `),
    `"${error.message}" should start with [cellar:${store}]`,
  )
  assert.ok(error.cause instanceof Error, 'the driver error should be the cause')
}

/** Retries `probe` until it resolves, after a server came back; bounded attempts, no wall-clock. */
export async function recovered(probe: () => Promise<unknown>): Promise<void> {
  for (let attempt = 0; attempt < 200; attempt++) {
    const ok = await probe().then(
      () => true,
      () => false,
    )
    if (ok) return
    await sleep(50)
  }
  throw new Error('the store did not recover after the server came back')
}
