import {
  assertKey,
  BackendUnavailableError,
  CellarError,
  type IncrementOptions,
  InvalidArgumentError,
  type Lock,
  type LockOptions,
  type Store,
  type StoreCapabilities,
  type Ttl,
} from '@cellar/core'
import { ReferenceStore } from './reference-store.js'

/**
 * One deliberate bug of `BrokenStore`, each a gap the suite once had: the meta-test proves the
 * named test passes on the plain wrapper and fails with the bug switched on.
 */
export type Bug =
  | 'clear-releases-locks'
  | 'refuses-fractional-ttl'
  | 'accepts-empty-names'
  | 'throws-synchronously'
  | 'caps-batches'
  | 'keys-lists-nested'
  | 'keys-lists-expired'
  | 'keys-lists-locks'
  | 'keys-drops-tilde'
  | 'keys-one-page'
  | 'down-hangs'
  | 'down-bare-error'
  | 'down-cellar-cause'
  | 'down-no-recovery'

/** State shared by a root wrapper, its namespaces and the fault hook. */
export interface Backend {
  readonly bugs: ReadonlySet<Bug>
  /** The backend is unreachable (set by the fault hook). */
  down: boolean
  /** Once down, it never comes back ('down-no-recovery'). */
  broken: boolean
  /** Every lock handed out, with the namespace path of the store that made it. */
  readonly locks: Map<Lock, readonly string[]>
}

/** A backend shared by every store built from it, with `bugs` switched on. */
export function brokenBackend(bugs: readonly Bug[] = []): Backend {
  return { bugs: new Set(bugs), down: false, broken: false, locks: new Map() }
}

/** A fault hook that takes `backend` down and brings it back. */
export function hookOf(backend: Backend) {
  return {
    stop: () => {
      backend.down = true
      if (backend.bugs.has('down-no-recovery')) backend.broken = true
    },
    start: () => {
      backend.down = false
    },
    deadline: 300,
  }
}

/**
 * The names of the locks still held, read through `open` (an open client over the same
 * entries, e.g. `root.sibling()`), following each lock's namespace path.
 */
export async function heldLocks(backend: Backend, open: ReferenceStore): Promise<string[]> {
  const held: string[] = []
  for (const [lock, path] of backend.locks) {
    const store = path.reduce((parent, name) => parent.namespace(name), open)
    if (await store.lock(lock.name).isLocked()) held.push([...path, lock.name].join(' > '))
  }
  return held
}

const BATCH_CAP = 1_000

function fractional(ttl: Ttl | undefined | null): boolean {
  return typeof ttl === 'number' && Number.isFinite(ttl) && !Number.isInteger(ttl)
}

/**
 * A store that delegates to a correct `ReferenceStore` and adds the bugs of its backend. Only
 * for the meta-test.
 */
export class BrokenStore implements Store<unknown> {
  readonly name = 'broken'
  readonly #inner: ReferenceStore
  readonly #backend: Backend
  readonly #children: BrokenStore[] = []
  readonly #expiring = new Set<string>()
  readonly #path: readonly string[]

  constructor(backend: Backend, inner = new ReferenceStore(), path: readonly string[] = []) {
    this.#backend = backend
    this.#inner = inner
    this.#path = path
  }

  get capabilities(): StoreCapabilities {
    return this.#inner.capabilities
  }

  async get(key: string): Promise<unknown> {
    await this.#reach('get')
    return this.#inner.get(key)
  }

  async getMany(keys: readonly string[]): Promise<unknown[]> {
    await this.#reach('getMany')
    return this.#inner.getMany(this.#capped(keys))
  }

  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    await this.#reach('set', ttl)
    if (typeof ttl === 'number' && ttl > 0) this.#expiring.add(key)
    return this.#inner.set(key, value, ttl)
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    await this.#reach('setMany', ttl)
    return this.#inner.setMany(this.#capped(entries), ttl)
  }

  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    await this.#reach('add', ttl)
    return this.#inner.add(key, value, ttl)
  }

  async has(key: string): Promise<boolean> {
    await this.#reach('has')
    return this.#inner.has(key)
  }

  async delete(key: string): Promise<boolean> {
    await this.#reach('delete')
    return this.#inner.delete(key)
  }

  async deleteMany(keys: readonly string[]): Promise<number> {
    await this.#reach('deleteMany')
    return this.#inner.deleteMany(this.#capped(keys))
  }

  async increment(key: string, delta?: number, options?: IncrementOptions): Promise<number> {
    await this.#reach('increment', options?.ttl)
    return this.#inner.increment(key, delta, options)
  }

  touch(key: string, ttl: Ttl): Promise<boolean> {
    // The bug: validation before the first await escapes as a synchronous throw.
    if (this.#backend.bugs.has('throws-synchronously')) assertKey(key)
    return this.#reach('touch', ttl).then(() => this.#inner.touch(key, ttl))
  }

  async ttl(key: string): Promise<number | null | undefined> {
    await this.#reach('ttl')
    return this.#inner.ttl(key)
  }

  async *keys(): AsyncIterable<string> {
    await this.#reach('keys')
    const bugs = this.#backend.bugs
    const listed: string[] = []
    for await (const key of this.#inner.keys()) listed.push(key)
    if (bugs.has('keys-lists-expired')) {
      for (const key of this.#expiring) if (!listed.includes(key)) listed.push(key)
    }
    if (bugs.has('keys-lists-nested')) {
      for (const child of this.#children) for await (const key of child.keys()) listed.push(key)
    }
    if (bugs.has('keys-lists-locks')) {
      for (const lock of this.#backend.locks.keys()) listed.push(lock.name)
    }
    const kept = listed.filter((key) => !(bugs.has('keys-drops-tilde') && key.startsWith('~')))
    yield* bugs.has('keys-one-page') ? kept.slice(0, BATCH_CAP) : kept
  }

  async clear(): Promise<void> {
    await this.#reach('clear')
    await this.#inner.clear()
    if (this.#backend.bugs.has('clear-releases-locks')) {
      for (const lock of this.#backend.locks.keys()) await lock.forceRelease()
    }
  }

  namespace(name: string): BrokenStore {
    const bugs = this.#backend.bugs
    const inner = this.#inner.namespace(
      bugs.has('accepts-empty-names') && name === '' ? 'empty' : name,
    )
    const child = new BrokenStore(this.#backend, inner, [...this.#path, name])
    this.#children.push(child)
    return child
  }

  lock(name: string, options?: LockOptions): Lock {
    const bugs = this.#backend.bugs
    if (bugs.has('refuses-fractional-ttl') && fractional(options?.ttl as Ttl)) {
      throw new InvalidArgumentError('[cellar:broken] lock ttl must be a whole number of ms')
    }
    const inner = this.#inner.lock(
      bugs.has('accepts-empty-names') && name === '' ? 'empty' : name,
      options,
    )
    this.#backend.locks.set(inner, this.#path)
    return new Proxy(inner, {
      get: (target, property) => {
        const member = Reflect.get(target, property, target)
        if (typeof member !== 'function') return member
        return (...args: unknown[]) =>
          this.#reach(`lock ${String(property)}`).then(() => member.apply(target, args))
      },
    })
  }

  close(): Promise<void> {
    return this.#inner.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #capped<T>(items: readonly T[]): readonly T[] {
    return this.#backend.bugs.has('caps-batches') ? items.slice(0, BATCH_CAP) : items
  }

  /** Fails like an unreachable backend would (or like a buggy adapter does), else resolves. */
  #reach(operation: string, ttl?: Ttl | null): Promise<void> {
    const backend = this.#backend
    if (backend.bugs.has('refuses-fractional-ttl') && fractional(ttl)) {
      return Promise.reject(
        new InvalidArgumentError(`[cellar:broken] ${operation}: ttl must be a whole number of ms`),
      )
    }
    if (!backend.down && !backend.broken) return Promise.resolve()
    const driver = new Error('connect ECONNREFUSED 127.0.0.1:1')
    if (backend.bugs.has('down-hangs')) return new Promise(() => {})
    if (backend.bugs.has('down-bare-error')) return Promise.reject(driver)
    const cause = backend.bugs.has('down-cellar-cause')
      ? new CellarError('E_BACKEND_UNAVAILABLE', `[cellar:broken] ${operation} failed`)
      : driver
    return Promise.reject(
      new BackendUnavailableError(`[cellar:broken] ${operation} failed: ${driver.message}`, {
        cause,
      }),
    )
  }
}
