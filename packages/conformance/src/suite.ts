import type { Store } from '@cellar/core'
import { lockOf } from './groups/shared.js'
import { declaresAll, resolveSettings } from './settings.js'
import type {
  AnyStore,
  BareTest,
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

/** Frees a lock a test left behind; a store the test closed on purpose holds nothing to free. */
async function forceReleaseQuietly(store: Store<unknown>, name: string): Promise<void> {
  try {
    await lockOf(store, name).forceRelease()
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code !== 'E_STORE_CLOSED') throw error
  }
}

/** Runs `fn` with a kit, then its deferred cleanups (latest first); rethrows the first failure. */
async function runWithKit(
  settings: SuiteSettings,
  store: AnyStore | undefined,
  fn: (kit: TestKit) => Promise<void>,
  finish: () => Promise<void>,
): Promise<void> {
  const cleanups: Array<() => unknown> = []
  const held = new Map<AnyStore, Set<string>>()
  const kit: TestKit = {
    settings,
    defer: (cleanup) => {
      cleanups.push(cleanup)
    },
    lock: (owner, name, options) => {
      const lock = lockOf(owner as Store<unknown>, name, options)
      const names = held.get(owner) ?? new Set<string>()
      held.set(owner, names)
      if (!names.has(name)) {
        names.add(name)
        cleanups.push(() => forceReleaseQuietly(owner as Store<unknown>, name))
      }
      return lock
    },
    sibling: async () => {
      if (settings.sibling === undefined || store === undefined) {
        throw new TypeError('[cellar:conformance] this test needs options.sibling')
      }
      const other = await settings.sibling(store)
      cleanups.push(() => other.close())
      return other
    },
  }
  let failure: { error: unknown } | undefined
  try {
    await fn(kit)
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
    await finish()
  } catch (error) {
    failure ??= { error }
  }
  if (failure !== undefined) throw failure.error
}

/** Builds a fresh store, runs `fn`, then runs deferred cleanups and clears and closes the store. */
async function runWithStore(
  factory: StoreFactory,
  settings: SuiteSettings,
  fn: StoreTest,
): Promise<void> {
  const store = (await factory()) as Store<unknown>
  await runWithKit(
    settings,
    store,
    (kit) => fn(store, kit),
    () => clearAndClose(store),
  )
}

function runBare(settings: SuiteSettings, fn: BareTest): Promise<void> {
  return runWithKit(settings, undefined, fn, async () => {})
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
      factory,
      test: (title, fn, options) => {
        if (options?.skip !== undefined) {
          registerSkipped(runner, `${title} — skipped: ${options.skip}`)
          return
        }
        const build = options?.factory ?? factory
        runner.test(
          title,
          () => runWithStore(build, settings, fn),
          options?.timeout ?? settings.timeout,
        )
      },
      bare: (title, fn, options) => {
        if (options?.skip !== undefined) {
          registerSkipped(runner, `${title} — skipped: ${options.skip}`)
          return
        }
        runner.test(title, () => runBare(settings, fn), options?.timeout ?? settings.timeout)
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
export function registerSuite<S extends AnyStore>(
  runner: TestRunner,
  factory: StoreFactory<S>,
  options: ConformanceOptions<S>,
  groups: readonly GroupDefinition[],
  label: string,
): void {
  assertRunner(runner)
  if (typeof factory !== 'function') {
    throw new TypeError('[cellar:conformance] factory must be a function returning a store')
  }
  // The store type only matters to the caller's callbacks; inside, any store will do.
  const plain = options as unknown as ConformanceOptions
  const register = (
    declared: AnyStore['capabilities'] | undefined,
    storeName: string | undefined,
  ) => {
    let settings: SuiteSettings
    try {
      settings = resolveSettings(declared, plain, storeName)
    } catch (error) {
      // A misspelled or missing capability fails one test, with the reason, not the collection.
      runner.test('options and declared capabilities are valid', () => {
        throw error
      })
      return
    }
    for (const group of groups) registerGroup(runner, factory, settings, group)
  }
  const title = `${options.name ?? 'store'} ${label}`
  const failing = (title: string, error: unknown) => {
    runner.describe(title, () => {
      runner.test('the factory builds a store (needed to read its capabilities)', () => {
        throw error
      })
    })
  }
  if (declaresAll(plain)) {
    runner.describe(title, () => register(undefined, undefined))
    return
  }
  let probe: AnyStore | Promise<AnyStore>
  try {
    probe = factory()
  } catch (error) {
    failing(title, error)
    return
  }
  if (isPromiseLike(probe)) {
    const pending = probe
    // Avoid an unhandled rejection before the describe callback awaits it.
    pending.catch(noop)
    runner.describe(title, async () => {
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
      register(store.capabilities, store.name)
    })
    return
  }
  closeQuietly(probe)
  const store = probe
  runner.describe(`${options.name ?? store.name ?? 'store'} ${label}`, () =>
    register(store.capabilities, store.name),
  )
}
