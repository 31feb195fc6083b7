import type { Lock, LockOptions, Store, StoreCapabilities } from '@cellar/core'

/** A test body as every runner accepts it. */
export type TestFunction = () => void | Promise<void>

/** Registers a test; `timeout` is passed as the third argument (vitest, jest and mocha-style). */
export interface TestRegistrar {
  (name: string, fn: TestFunction, timeout?: number): unknown
  /** Registers a skipped test; when absent, skipped groups register a passing note instead. */
  skip?: (name: string, fn: TestFunction) => unknown
}

/**
 * The test runner's functions, passed in so the suite never imports a runner (pass vitest's or
 * jest's `{ describe, test }`). Hooks are accepted but not needed: every test builds and closes
 * its own store.
 */
export interface TestRunner {
  /** Groups tests; the callback may be async when the factory is (vitest awaits it). */
  describe: (name: string, fn: () => void | Promise<void>) => unknown
  test: TestRegistrar
  beforeEach?: (fn: () => unknown, timeout?: number) => unknown
  afterEach?: (fn: () => unknown, timeout?: number) => unknown
  beforeAll?: (fn: () => unknown, timeout?: number) => unknown
  afterAll?: (fn: () => unknown, timeout?: number) => unknown
}

/** Any store the suite can test: a byte store or a raw store. */
export type AnyStore = Store<Uint8Array> | Store<unknown>

/**
 * Builds a fresh store for one test, on its own unique prefix, with no default TTL. The suite
 * clears and closes it after the test.
 */
export type StoreFactory<S extends AnyStore = AnyStore> = () => S | Promise<S>

/** Waits, in milliseconds, used by every test that watches something expire. */
export interface Timing {
  /** The short TTL written by expiry tests (and the lock TTL of lock expiry tests). */
  readonly ttl: number
  /** When an entry with `ttl` must still be present. */
  readonly beforeExpiry: number
  /** When an entry with `ttl` must be gone. */
  readonly afterExpiry: number
}

/** The capabilities the suite reads; each defaults to `store.capabilities`. */
export type ConformanceCapabilities = Omit<StoreCapabilities, 'persistent'>

/**
 * How the **faults** group takes the backend away and brings it back (a server the hook may
 * stop, a TCP proxy it closes, a directory it replaces). Stores come from `factory`, else from
 * the suite's factory; `stop()` must make every call of those stores fail, `start()` must let
 * them (or their reconnecting clients) work again.
 */
export interface FaultHook {
  /** Builds a store over the backend `stop`/`start` control; defaults to the suite's factory. */
  factory?: StoreFactory
  /** Makes the backend unreachable (stop the server, close the proxy, remove the directory). */
  stop(): unknown
  /** Brings the backend back, on the same address. */
  start(): unknown
  /**
   * How long one call may take to settle while the backend is down before the test fails with
   * "hung" (a generous bound, not a performance check).
   * @default 10_000
   */
  deadline?: number
}

/**
 * The child process the **exit** group runs: a module that builds a store the way an
 * application does (owning its connections), which the child wraps in
 * `new CacheGateway(store, { prefix: 'app' })`, writes to, closes, and must then exit on its own.
 */
export interface ExitCheck {
  /**
   * Absolute path of an ES module (or TypeScript, with `execArgv: ['--import', 'tsx']`) that
   * exports `createStore(): Store | Promise<Store>`. `@cellar/core` is resolved from its folder.
   */
  module: string
  /** Extra environment of the child (server URLs); added to `process.env`. */
  env?: Readonly<Record<string, string>>
  /**
   * Node flags of the child, e.g. `['--import', 'tsx']` for a TypeScript module.
   * @default []
   */
  execArgv?: readonly string[]
}

/**
 * Options of `describeStore`, `describeLock` and every group. Capability fields override what
 * the store declares (both for skipping and for limits such as `maxKeyLength`). Generic on the
 * store type, so `sibling` receives your store class without a cast.
 */
export interface ConformanceOptions<S extends AnyStore = AnyStore>
  extends Partial<ConformanceCapabilities> {
  /**
   * Title of the outer `describe`.
   * @default store.name
   */
  name?: string
  /**
   * Expiry waits; derived from `ttlPrecision` by default (1 ms stores: ttl 400, present at 150,
   * gone at 700; 1 s stores: ttl 1000, present at 300, gone at 2200).
   */
  timing?: Partial<Timing>
  /**
   * Per-test timeout passed to the runner.
   * @default 15_000 + 4 × timing.afterExpiry
   */
  timeout?: number
  /**
   * Another client (own connection or instance) over the same keys as `store`. Enables the
   * cross-client tests (visibility, atomic counters, atomic add, lock exclusion).
   */
  sibling?: (store: S) => AnyStore | Promise<AnyStore>
  /** Enables the **faults** group: stop and restart the backend (see `FaultHook`). */
  faults?: FaultHook
  /** Enables the **exit** group: a child process that must exit after closing (see `ExitCheck`). */
  exit?: ExitCheck
}

/** Everything a group knows when it registers its tests. */
export interface SuiteSettings {
  readonly name: string
  readonly capabilities: ConformanceCapabilities
  readonly timing: Timing
  readonly timeout: number
  readonly sibling: ((store: AnyStore) => AnyStore | Promise<AnyStore>) | undefined
  readonly faults: FaultHook | undefined
  readonly exit: ExitCheck | undefined
}

/** What a test body receives besides the store. */
export interface TestKit {
  /** The suite's settings (capabilities, timing). */
  readonly settings: SuiteSettings
  /** A second client over the same keys (from `options.sibling`), closed after the test. */
  sibling(): Promise<AnyStore>
  /** Runs `cleanup` after the test, before the store is cleared and closed. */
  defer(cleanup: () => unknown): void
  /**
   * `store.lock(name, options)`, force-released after the test so no lock outlives it on a
   * shared backend; fails clearly when the store declares locks but has no `lock()`.
   */
  lock(store: AnyStore, name: string, options?: LockOptions): Lock
}

/** A test body: the fresh store, plus the kit. */
export type StoreTest = (store: Store<unknown>, kit: TestKit) => Promise<void>

/** One test of a group; `skip` set means it is registered as skipped with that reason. */
export interface GroupTestOptions {
  skip?: string | undefined
  /** Builds this test's store instead of the suite's factory (the faults group's stores). */
  factory?: StoreFactory | undefined
  /** Runner timeout of this test, when it needs more than `settings.timeout`. */
  timeout?: number | undefined
}

/** A test body that needs no store (it runs a child process, say). */
export type BareTest = (kit: TestKit) => Promise<void>

/** The registration API a group's `define` receives. */
export interface GroupApi {
  readonly settings: SuiteSettings
  /** The suite's factory (what `test` builds its stores with). */
  readonly factory: StoreFactory
  test(title: string, fn: StoreTest, options?: GroupTestOptions): void
  /** Registers a test that builds no store; `kit.sibling()` is unavailable there. */
  bare(title: string, fn: BareTest, options?: Pick<GroupTestOptions, 'skip' | 'timeout'>): void
}

/** A named group of tests and when it does not apply. */
export interface GroupDefinition {
  readonly title: string
  /** Why the group does not apply to these settings; `undefined` when it does. */
  readonly skipReason?: (settings: SuiteSettings) => string | undefined
  readonly define: (api: GroupApi) => void
}
