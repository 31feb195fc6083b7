import type { Store } from '@cellar/core'
import { declaresAll, resolveSettings } from './settings.js'
import type {
  AnyStore,
  ConformanceOptions,
  GroupDefinition,
  StoreFactory,
  StoreTest,
  SuiteSettings,
  TestKit,
  TestRunner,
} from './types.js'

const noop = (): void => {}

function isPromiseLike<T>(value: T | Promise<T>): value is Promise<T> {
  return typeof (value as { then?: unknown } | null)?.then === 'function'
}

function assertRunner(runner: TestRunner): void {
  if (typeof runner?.describe !== 'function' || typeof runner.test !== 'function') {
    throw new TypeError(
      '[cellar:conformance] runner must provide describe and test (e.g. { describe, test } from vitest)',
    )
  }
}

/**
 * Registers a test that states why it does not run: skipped through `test.skip` when the runner
 * has it, otherwise a passing test whose title starts with `[not applicable]`.
 */
export function registerSkipped(runner: TestRunner, title: string): void {
  if (typeof runner.test.skip === 'function') runner.test.skip(title, noop)
  else runner.test(`[not applicable] ${title}`, noop)
}

async function clearAndClose(store: AnyStore): Promise<void> {
  try {
    await store.clear()
  } catch (error) {
    // A test may close its store on purpose; anything else is a real failure of clear().
    if ((error as { code?: unknown } | null)?.code !== 'E_STORE_CLOSED') throw error
  }
  await store.close()
}

/** Builds a fresh store, runs `fn`, then runs deferred cleanups and clears and closes the store. */
async function runWithStore(
  factory: StoreFactory,
  settings: SuiteSettings,
  fn: StoreTest,
): Promise<void> {
  const store = (await factory()) as Store<unknown>
  const cleanups: Array<() => unknown> = []
  const kit: TestKit = {
    settings,
    defer: (cleanup) => {
      cleanups.push(cleanup)
    },
    sibling: async () => {
      if (settings.sibling === undefined) {
        throw new TypeError('[cellar:conformance] this test needs options.sibling')
      }
      const other = await settings.sibling(store)
      cleanups.push(() => other.close())
      return other
    },
  }
  let failure: { error: unknown } | undefined
  try {
    await fn(store, kit)
  } catch (error) {
    failure = { error }
  }
  for (const cleanup of cleanups.reverse()) {
    try {
      await cleanup()
    } catch (error) {
      failure ??= { error }
    }
  }
  try {
    await clearAndClose(store)
  } catch (error) {
    failure ??= { error }
  }
  if (failure !== undefined) throw failure.error
}

function registerGroup(
  runner: TestRunner,
  factory: StoreFactory,
  settings: SuiteSettings,
  group: GroupDefinition,
): void {
  runner.describe(group.title, () => {
    const reason = group.skipReason?.(settings)
    if (reason !== undefined) {
      registerSkipped(runner, `skipped: ${reason}`)
      return
    }
    group.define({
      settings,
      test: (title, fn, options) => {
        if (options?.skip !== undefined) {
          registerSkipped(runner, `${title} — skipped: ${options.skip}`)
          return
        }
        runner.test(title, () => runWithStore(factory, settings, fn), settings.timeout)
      },
    })
  })
}

function closeQuietly(store: AnyStore): void {
  // The probe only told us the capabilities; its close must not fail the collection.
  Promise.resolve()
    .then(() => store.close())
    .catch(noop)
}

/**
 * Registers `groups` under one outer `describe`. Capabilities come from `options`, else from a
 * probe store built by `factory` during collection (closed right away, nothing written).
 */
export function registerSuite(
  runner: TestRunner,
  factory: StoreFactory,
  options: ConformanceOptions,
  groups: readonly GroupDefinition[],
  label: string,
): void {
  assertRunner(runner)
  if (typeof factory !== 'function') {
    throw new TypeError('[cellar:conformance] factory must be a function returning a store')
  }
  const registerAll = (settings: SuiteSettings) => {
    for (const group of groups) registerGroup(runner, factory, settings, group)
  }
  const failing = (title: string, error: unknown) => {
    runner.describe(title, () => {
      runner.test('the factory builds a store (needed to read its capabilities)', () => {
        throw error
      })
    })
  }
  if (declaresAll(options)) {
    const settings = resolveSettings(undefined, options, undefined)
    runner.describe(`${settings.name} ${label}`, () => registerAll(settings))
    return
  }
  let probe: AnyStore | Promise<AnyStore>
  try {
    probe = factory()
  } catch (error) {
    failing(`${options.name ?? 'store'} ${label}`, error)
    return
  }
  if (isPromiseLike(probe)) {
    const pending = probe
    // Avoid an unhandled rejection before the describe callback awaits it.
    pending.catch(noop)
    runner.describe(`${options.name ?? 'store'} ${label}`, async () => {
      let store: AnyStore
      try {
        store = await pending
      } catch (error) {
        runner.test('the factory builds a store (needed to read its capabilities)', () => {
          throw error
        })
        return
      }
      closeQuietly(store)
      registerAll(resolveSettings(store.capabilities, options, store.name))
    })
    return
  }
  closeQuietly(probe)
  const settings = resolveSettings(probe.capabilities, options, probe.name)
  runner.describe(`${settings.name} ${label}`, () => registerAll(settings))
}
