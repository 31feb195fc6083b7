import {
  type CellarError,
  type IncrementOptions,
  InvalidArgumentError,
  isCellarError,
  type Lock,
  type LockOptions,
  type Store,
  type StoreCapabilities,
  type Ttl,
} from '@cellar/core'

/** A store of a failover list, with the name it has in the configuration. */
export interface FailoverMember {
  readonly name: string
  readonly store: Store<unknown>
}

/** Called when a call moves from one store to the next. */
export type FailoverListener = (from: string, to: string, error: CellarError) => void

/** Options of a `FailoverStore`. */
export interface FailoverStoreOptions {
  /**
   * How long a store that failed is skipped before it is tried first again.
   * @default 5_000
   */
  readonly retryAfterMs?: number
  /** Told about every move to the next store. */
  readonly onFailover?: FailoverListener
}

function merge(stores: readonly Store<unknown>[]): StoreCapabilities {
  const all = (pick: (c: StoreCapabilities) => boolean) => stores.every((s) => pick(s.capabilities))
  const some = (pick: (c: StoreCapabilities) => boolean) => stores.some((s) => pick(s.capabilities))
  const min = (pick: (c: StoreCapabilities) => number) =>
    Math.min(...stores.map((s) => pick(s.capabilities)))
  return Object.freeze({
    atomicCounters: all((c) => c.atomicCounters),
    atomicAdd: all((c) => c.atomicAdd),
    locks: all((c) => c.locks),
    sharedAcrossProcesses: all((c) => c.sharedAcrossProcesses),
    persistent: all((c) => c.persistent),
    retainsValues: all((c) => c.retainsValues),
    raw: all((c) => c.raw),
    maxKeyLength: min((c) => c.maxKeyLength),
    maxValueSize: min((c) => c.maxValueSize),
    ttlPrecision: Math.max(...stores.map((s) => s.capabilities.ttlPrecision)),
    readsTtl: all((c) => c.readsTtl),
    listsKeys: all((c) => c.listsKeys),
    evicts: some((c) => c.evicts),
  })
}

/**
 * Several stores as one: each call goes to the first store that is not marked down; an
 * `E_BACKEND_UNAVAILABLE` marks that store down for `retryAfterMs` and the call moves on to the
 * next. Entries are not copied between stores: after a failover, reads miss until refilled.
 */
export class FailoverStore implements Store<unknown> {
  readonly name = 'failover'
  readonly capabilities: StoreCapabilities
  readonly #members: readonly FailoverMember[]
  readonly #downUntil: number[]
  readonly #retryAfterMs: number
  readonly #onFailover: FailoverListener | undefined

  constructor(members: readonly FailoverMember[], options: FailoverStoreOptions = {}) {
    if (members.length < 2) {
      throw new InvalidArgumentError('[cellar:cache] failover needs at least two stores')
    }
    const raw = members[0]!.store.capabilities.raw
    if (members.some((member) => member.store.capabilities.raw !== raw)) {
      throw new InvalidArgumentError(
        `[cellar:cache] failover stores must all be byte stores or all raw stores (${members.map((m) => `${m.name}: ${m.store.capabilities.raw ? 'raw' : 'bytes'}`).join(', ')})`,
      )
    }
    this.#members = members
    this.#downUntil = members.map(() => 0)
    this.#retryAfterMs = options.retryAfterMs ?? 5_000
    this.#onFailover = options.onFailover
    this.capabilities = merge(members.map((member) => member.store))
  }

  /** The configured name of the store calls go to now. */
  get active(): string {
    return this.#members[this.#firstUp()]!.name
  }

  get(key: string): Promise<unknown> {
    return this.#run((store) => store.get(key))
  }

  getMany(keys: readonly string[]): Promise<unknown[]> {
    return this.#run((store) => store.getMany(keys))
  }

  set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    return this.#run((store) => store.set(key, value, ttl))
  }

  setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    return this.#run((store) => store.setMany(entries, ttl))
  }

  add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    return this.#run((store) => store.add(key, value, ttl))
  }

  has(key: string): Promise<boolean> {
    return this.#run((store) => store.has(key))
  }

  delete(key: string): Promise<boolean> {
    return this.#run((store) => store.delete(key))
  }

  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#run((store) => store.deleteMany(keys))
  }

  increment(key: string, delta?: number, options?: IncrementOptions): Promise<number> {
    return this.#run((store) => store.increment(key, delta, options))
  }

  touch(key: string, ttl: Ttl): Promise<boolean> {
    return this.#run((store) => store.touch(key, ttl))
  }

  ttl(key: string): Promise<number | null | undefined> {
    return this.#run((store) => store.ttl(key))
  }

  clear(): Promise<void> {
    return this.#run((store) => store.clear())
  }

  /** The same failover over each store's namespace. */
  namespace(name: string): FailoverStore {
    return new FailoverStore(
      this.#members.map((member) => ({ name: member.name, store: member.store.namespace(name) })),
      {
        retryAfterMs: this.#retryAfterMs,
        ...(this.#onFailover && { onFailover: this.#onFailover }),
      },
    )
  }

  /** A lock on the store active now (a lock does not move when the store fails over). */
  lock(name: string, options?: LockOptions): Lock {
    const store = this.#members[this.#firstUp()]!.store
    if (store.lock === undefined) {
      throw new InvalidArgumentError(`[cellar:cache] store "${this.active}" has no locks`, {
        key: name,
      })
    }
    return store.lock(name, options)
  }

  /** Closes every member store. */
  async close(): Promise<void> {
    await Promise.all(this.#members.map((member) => member.store.close()))
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #firstUp(): number {
    const now = Date.now()
    const index = this.#downUntil.findIndex((until) => until <= now)
    return index === -1 ? 0 : index
  }

  async #run<T>(call: (store: Store<unknown>) => Promise<T>): Promise<T> {
    let index = this.#firstUp()
    for (;;) {
      const member = this.#members[index]!
      try {
        return await call(member.store)
      } catch (error) {
        const next = index + 1
        if (!isCellarError(error, 'E_BACKEND_UNAVAILABLE') || next >= this.#members.length)
          throw error
        this.#downUntil[index] = Date.now() + this.#retryAfterMs
        this.#onFailover?.(member.name, this.#members[next]!.name, error)
        index = next
      }
    }
  }
}
