import { AssertionError } from 'node:assert'
import { isDeepStrictEqual } from 'node:util'
import { CacheGateway, type Ttl } from '@cellar/core'
import type { CacheEmitter } from './emitter.js'
import { FakeStore } from './fake-store.js'
import { Repository } from './repository.js'

/** One call the fake saw. */
export interface RecordedCall {
  readonly method: 'put' | 'forget' | 'flush' | 'increment' | 'decrement'
  readonly key: string | undefined
  readonly value?: unknown
  readonly ttl?: Ttl
}

function show(value: unknown): string {
  try {
    return JSON.stringify(value) ?? String(value)
  } catch {
    return String(value)
  }
}

/**
 * What `cache.fake()` returns: the whole facade over an in-process `FakeStore`, recording every
 * write, removal and lock. Assertions throw node's `AssertionError` listing what was recorded.
 * `restore()` (or `using`) puts the real stores back.
 */
export class CacheFake extends Repository implements Disposable {
  /** Every recorded write, removal and counter change, in order. */
  readonly calls: RecordedCall[] = []
  /** Names of every lock acquired while faked. */
  readonly locksAcquired: string[] = []
  readonly #restore: () => void
  readonly #off: () => void

  constructor(events: CacheEmitter, restore: () => void) {
    super(new CacheGateway(new FakeStore()), { storeName: 'fake', events, ttl: undefined })
    this.#restore = restore
    this.#off = events.on('lockAcquired', (event) => this.locksAcquired.push(event.name))
  }

  override async put(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    this.calls.push({ method: 'put', key, value, ttl })
    return super.put(key, value, ttl)
  }

  override async putMany(values: Readonly<Record<string, unknown>>, ttl?: Ttl): Promise<boolean> {
    for (const [key, value] of Object.entries(values))
      this.calls.push({ method: 'put', key, value, ttl })
    return super.putMany(values, ttl)
  }

  override async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const written = await super.add(key, value, ttl)
    if (written) this.calls.push({ method: 'put', key, value, ttl })
    return written
  }

  override async forget(key: string): Promise<boolean> {
    this.calls.push({ method: 'forget', key })
    return super.forget(key)
  }

  override async pull<T = unknown>(
    key: string,
    fallback?: T | (() => T | Promise<T>),
  ): Promise<T | undefined> {
    const value = await super.pull<T>(key, fallback)
    this.calls.push({ method: 'forget', key })
    return value
  }

  override async flush(): Promise<boolean> {
    this.calls.push({ method: 'flush', key: undefined })
    return super.flush()
  }

  override async increment(key: string, by = 1, ttl?: Ttl): Promise<number> {
    this.calls.push({ method: 'increment', key, value: by, ttl })
    return super.increment(key, by, ttl)
  }

  override async decrement(key: string, by = 1, ttl?: Ttl): Promise<number> {
    this.calls.push({ method: 'decrement', key, value: by, ttl })
    return super.decrement(key, by, ttl)
  }

  /** Puts the real stores back. */
  restore(): void {
    this.#off()
    this.#restore()
  }

  [Symbol.dispose](): void {
    this.restore()
  }

  /** Something was written under `key` (with this value and TTL, when given). */
  assertPut(key: string, value?: unknown, ttl?: Ttl): void {
    const found = this.#puts().some(
      (call) =>
        call.key === key &&
        (value === undefined || isDeepStrictEqual(call.value, value)) &&
        (ttl === undefined || call.ttl === ttl),
    )
    if (!found) {
      const wanted = `${key}${value === undefined ? '' : ` = ${show(value)}`}${ttl === undefined ? '' : ` (ttl ${show(ttl)})`}`
      this.#fail(`expected a write of ${wanted}`)
    }
  }

  /** Nothing was written under `key`. */
  assertNotPut(key: string): void {
    if (this.#puts().some((call) => call.key === key)) this.#fail(`expected no write of ${key}`)
  }

  /** Nothing was written at all. */
  assertNothingPut(): void {
    if (this.#puts().length > 0) this.#fail('expected no writes')
  }

  /** Exactly `count` writes were made. */
  assertPutCount(count: number): void {
    const puts = this.#puts().length
    if (puts !== count) this.#fail(`expected ${count} writes, saw ${puts}`)
  }

  /** `key` holds a live entry now. */
  async assertHas(key: string): Promise<void> {
    if (!(await this.has(key))) this.#fail(`expected the cache to hold ${key}`)
  }

  /** `key` holds no live entry now. */
  async assertMissing(key: string): Promise<void> {
    if (await this.has(key)) this.#fail(`expected the cache not to hold ${key}`)
  }

  /** `forget`/`pull` was called for `key`. */
  assertForgotten(key: string): void {
    if (!this.calls.some((call) => call.method === 'forget' && call.key === key)) {
      this.#fail(`expected ${key} to be forgotten`)
    }
  }

  /** A lock named `name` was acquired. */
  assertLockAcquired(name: string): void {
    if (!this.locksAcquired.includes(name)) {
      throw new AssertionError({
        message: `[cellar:cache] expected lock "${name}" to be acquired; acquired: ${show(this.locksAcquired)}`,
      })
    }
  }

  #puts(): RecordedCall[] {
    return this.calls.filter((call) => call.method === 'put')
  }

  #fail(what: string): never {
    const recorded = this.calls.map(
      (call) =>
        `${call.method}${call.key === undefined ? '' : ` ${call.key}`}${call.value === undefined ? '' : ` = ${show(call.value)}`}`,
    )
    throw new AssertionError({
      message: `[cellar:cache] ${what}; recorded: ${recorded.length === 0 ? 'nothing' : recorded.join(', ')}`,
    })
  }
}
