import assert from 'node:assert/strict'
import { setTimeout as delay } from 'node:timers/promises'
import type { Store } from '@cellar/core'
import { bytes, randomKey } from '../helpers.js'
import { preview } from '../preview.js'
import type { FaultHook, GroupDefinition, StoreFactory, SuiteSettings, TestKit } from '../types.js'

type Call = readonly [string, (store: Store<unknown>) => Promise<unknown>]

/** Pause between recovery attempts; a bounded number of attempts, never a wall-clock check. */
const RETRY_PAUSE = 50
const DEFAULT_DEADLINE = 10_000

async function firstKey(store: Store<unknown>): Promise<unknown> {
  for await (const key of store.keys?.() ?? []) return key
  return undefined
}

function calls(settings: SuiteSettings): Call[] {
  const { listsKeys, locks } = settings.capabilities
  const list: Call[] = [
    ['get', (store) => store.get('k')],
    ['getMany', (store) => store.getMany(['k', 'other'])],
    ['set', (store) => store.set('k', bytes('during'))],
    ['setMany', (store) => store.setMany([['k', bytes('during')]], 60_000)],
    ['add', (store) => store.add(randomKey(), bytes('during'))],
    ['has', (store) => store.has('k')],
    ['delete', (store) => store.delete('k')],
    ['deleteMany', (store) => store.deleteMany(['k', 'other'])],
    ['increment', (store) => store.increment(randomKey(), 1, { ttl: 60_000 })],
    ['touch', (store) => store.touch('k', 60_000)],
    ['ttl', (store) => store.ttl('k')],
    ['clear', (store) => store.clear()],
  ]
  if (listsKeys) list.push(['keys() iteration', (store) => firstKey(store)])
  if (locks) {
    const lock = (store: Store<unknown>) =>
      store.lock?.(randomKey('lock')) ?? assert.fail('no lock()')
    list.push(
      ['lock acquire', (store) => lock(store).acquire()],
      ['lock release', (store) => lock(store).release()],
      ['lock extend', (store) => lock(store).extend(60_000)],
      ['lock isLocked', (store) => lock(store).isLocked()],
      ['lock forceRelease', (store) => lock(store).forceRelease()],
    )
  }
  return list
}

type Outcome = { settled: 'resolved'; value: unknown } | { settled: 'rejected'; error: unknown }

/** Settles `call()` or fails with a clear message once `deadline` ms have passed (a hang). */
async function settle(call: () => Promise<unknown>, deadline: number, label: string) {
  const timer = new AbortController()
  const hung = delay(deadline, undefined, { signal: timer.signal }).then(
    () => 'hung' as const,
    () => 'hung' as const,
  )
  let pending: Promise<Outcome>
  try {
    pending = Promise.resolve(call()).then(
      (value): Outcome => ({ settled: 'resolved', value }),
      (error): Outcome => ({ settled: 'rejected', error }),
    )
  } catch (error) {
    pending = Promise.resolve({ settled: 'rejected', error })
  }
  const outcome = await Promise.race([pending, hung])
  timer.abort()
  if (outcome === 'hung') {
    assert.fail(
      `${label}: still pending after ${deadline} ms with the backend down; expected it to reject with E_BACKEND_UNAVAILABLE instead of hanging`,
    )
  }
  return outcome
}

/** Asserts the typed backend error: code, `[cellar…]` message, the driver's own error as cause. */
function assertUnavailable(outcome: Outcome, label: string): void {
  if (outcome.settled === 'resolved') {
    assert.fail(
      `${label}: expected a rejection with E_BACKEND_UNAVAILABLE while the backend is down, but it resolved ${preview(outcome.value)}`,
    )
  }
  const error = outcome.error as { code?: unknown; message?: unknown; cause?: unknown }
  if (error?.code !== 'E_BACKEND_UNAVAILABLE') {
    assert.fail(
      `${label}: expected a rejection with code E_BACKEND_UNAVAILABLE while the backend is down, got ${preview(outcome.error)}`,
    )
  }
  assert.ok(
    typeof error.message === 'string' && error.message.startsWith('[cellar'),
    `${label}: the message should start with "[cellar:<store>]", got ${preview(error.message)}`,
  )
  const cause = error.cause as { code?: unknown; message?: unknown } | undefined
  assert.ok(
    cause instanceof Error,
    `${label}: expected the driver's error (an Error) as cause, got ${preview(cause)}`,
  )
  const causeCode = (cause as { code?: unknown }).code
  const cellarCause =
    typeof causeCode === 'string' &&
    /^E_[A-Z_]+$/.test(causeCode) &&
    cause.message.startsWith('[cellar')
  assert.ok(
    !cellarCause,
    `${label}: the cause should be the driver's own error, not another cellar error: ${preview(cause)}`,
  )
}

/**
 * Stops the backend now and brings it back after the test (before the store is cleared and
 * closed); `start()` is called once, whether the test brought it back itself or not.
 */
async function takeDown(hook: FaultHook, kit: TestKit): Promise<() => Promise<void>> {
  let down = true
  const start = async () => {
    if (!down) return
    down = false
    await hook.start()
  }
  kit.defer(start)
  await hook.stop()
  return start
}

/** Retries a write and a read until both succeed (bounded attempts); fails with the last error. */
async function recovers(store: Store<unknown>, deadline: number, what: string): Promise<void> {
  const key = randomKey('recovered')
  // About one deadline's worth of attempts (10 to 200).
  const attempts = Math.min(200, Math.max(10, Math.ceil(deadline / RETRY_PAUSE)))
  let last: unknown
  for (let attempt = 0; attempt < attempts; attempt++) {
    const outcome = await settle(
      async () => {
        await store.set(key, bytes('after'), 60_000)
        return store.get(key)
      },
      deadline,
      `${what} (attempt ${attempt + 1})`,
    )
    if (outcome.settled === 'resolved') {
      if (store.capabilities.retainsValues) {
        const text =
          outcome.value instanceof Uint8Array
            ? new TextDecoder().decode(outcome.value)
            : outcome.value
        assert.equal(text, 'after', `${what}: the value written after recovery should read back`)
      }
      return
    }
    last = outcome.error
    await delay(RETRY_PAUSE)
  }
  assert.fail(
    `${what}: expected the store to work again after the backend came back, still failing after ${attempts} attempts: ${preview(last)}`,
  )
}

/**
 * Backend failures (with `options.faults`): every method rejects `E_BACKEND_UNAVAILABLE` with the
 * driver's error as `cause`, without hanging, and the store recovers once the backend is back.
 */
export const faultsGroup: GroupDefinition = {
  title: 'backend faults',
  skipReason: (settings) =>
    settings.faults === undefined
      ? 'no options.faults given (a hook that stops and restarts the backend)'
      : undefined,
  define({ test, bare, settings, factory: suiteFactory }) {
    const hook = settings.faults as FaultHook
    const deadline = hook.deadline ?? DEFAULT_DEADLINE
    const factory = (hook.factory as StoreFactory | undefined) ?? suiteFactory
    // Room for a few bounded waits on top of the suite's timeout; the deadline fails first.
    const timeout = settings.timeout + 4 * deadline

    for (const [method, call] of calls(settings)) {
      test(
        `${method} rejects E_BACKEND_UNAVAILABLE with the driver's error as cause when the backend is down`,
        async (store, kit) => {
          await store.set('k', bytes('before'))
          await takeDown(hook, kit)
          assertUnavailable(await settle(() => call(store), deadline, method), method)
        },
        { factory, timeout },
      )
    }

    test(
      'the same store works again once the backend is back',
      async (store, kit) => {
        await store.set('k', bytes('before'))
        const start = await takeDown(hook, kit)
        assertUnavailable(await settle(() => store.get('k'), deadline, 'get'), 'get')
        await start()
        await recovers(store, deadline, 'after the backend came back')
      },
      { factory, timeout },
    )

    bare(
      'a store built while the backend is down fails fast, then works once it is back',
      async (kit) => {
        let store: Store<unknown> | undefined
        kit.defer(async () => {
          await store?.clear()
          await store?.close()
        })
        const start = await takeDown(hook, kit)
        const built = await settle(async () => factory(), deadline, 'building the store')
        if (built.settled === 'rejected') {
          // Connecting eagerly is allowed, as long as it is the typed error.
          assertUnavailable(built, 'building the store')
          await start()
          store = (await factory()) as Store<unknown>
        } else {
          store = built.value as Store<unknown>
          const current = store
          assertUnavailable(await settle(() => current.get('k'), deadline, 'get'), 'get')
          await start()
        }
        await recovers(store, deadline, 'a store built while the backend was down')
      },
      { timeout },
    )
  },
}
