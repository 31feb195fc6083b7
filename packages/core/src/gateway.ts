import { type EntryMeta, rawValue, ValueCodec } from './codec.js'
import type { Ttl } from './duration.js'
import { CellarError, UnsupportedError } from './errors.js'
import type { CacheEvent, CacheEventListener, CacheOperation } from './events.js'
import { callStore, observeStoreCall } from './gateway-call.js'
import { observeIterable } from './gateway-iterate.js'
import type { CacheGatewayOptions, GatewayEntry, GetValueOptions } from './gateway-options.js'
import { GatewayEvents, type Read, readPlain, readStored } from './gateway-read.js'
import type { Lock, LockOptions } from './lock.js'
import { MsgpackSerializer } from './serializer.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { IncrementOptions, Store } from './store.js'
import { isTracing, traceGetSync, traceSetSync } from './tracing.js'

// What every write answered synchronously resolves with: one promise, made once.
const SETTLED: Promise<void> = Promise.resolve()

export type { CacheGatewayOptions, GatewayEntry, GetValueOptions } from './gateway-options.js'

/**
 * Typed values over any store, through core's `ValueCodec` (counters stay native decimal, so
 * `incr` is the store's own atomic counter and reads back as a number). Closing the gateway
 * closes the store it was built on, with or without `prefix`.
 */
export class CacheGateway implements AsyncDisposable {
  /** The encoding shared with every layer built on this gateway. */
  readonly codec: ValueCodec
  readonly #root: Store<unknown>
  readonly #store: Store<unknown>
  readonly #events: GatewayEvents
  readonly #listeners: CacheEventListener[]
  // The store when it declares synchronous reads (and writes, where it has `setSync`).
  readonly #sync: Store<unknown> | undefined
  // The store when it answers some hits in-process (`getLocal`) without being synchronous.
  readonly #local: Store<unknown> | undefined
  // The synchronous store when it keeps settled reads (`getSettled`) and values are raw.
  readonly #settles: Store<unknown> | undefined
  readonly #name: string

  constructor(store: Store<Uint8Array> | Store<unknown>, options: CacheGatewayOptions = {}) {
    this.#root = store as Store<unknown>
    this.#store = options.prefix === undefined ? this.#root : this.#root.namespace(options.prefix)
    this.codec = new ValueCodec(
      options.serializer ?? new MsgpackSerializer(),
      store.capabilities.raw,
    )
    this.#name = this.#store.name
    this.#events = new GatewayEvents(this.#name)
    this.#listeners = this.#events.listeners
    if (options.onEvent !== undefined) this.#listeners.push(options.onEvent)
    this.#sync =
      this.#store.capabilities.synchronous === true && this.#store.getSync !== undefined
        ? this.#store
        : undefined
    this.#local =
      this.#sync === undefined && this.#store.getLocal !== undefined ? this.#store : undefined
    this.#settles = this.codec.raw && this.#sync?.getSettled !== undefined ? this.#sync : undefined
  }

  /** The store this gateway reads and writes (already namespaced by `prefix`). */
  get store(): Store<unknown> {
    return this.#store
  }

  /** Adds an event listener; resolves a function that removes it. */
  on(listener: CacheEventListener): () => void {
    this.#listeners.push(listener)
    return () => {
      const at = this.#listeners.indexOf(listener)
      if (at !== -1) this.#listeners.splice(at, 1)
    }
  }

  /** Resolves the value, or `undefined` on a miss, an undecodable value or a schema failure. */
  getValue<S extends StandardSchemaV1>(
    key: string,
    options: GetValueOptions<S> & { schema: S },
  ): Promise<StandardSchemaV1.InferOutput<S> | undefined>
  getValue<T = unknown>(key: string, options?: GetValueOptions): Promise<T | undefined>
  getValue(key: string, options?: GetValueOptions): Promise<unknown> {
    // An in-process store answers synchronously: one settled promise (of the plain read without
    // a schema). No closure here: V8 would allocate their context on every call, fast path too.
    // The rest is apart: the fewer bytecodes here, the more of the read V8 inlines into callers.
    const sync = this.#sync
    if (sync === undefined || options?.schema !== undefined || isTracing())
      return this.#getChecked(key, options)
    try {
      // A raw store's own settled promise of the value (kept per entry): no event to emit.
      const settles = this.#settles
      if (settles !== undefined && this.#listeners.length === 0)
        return settles.getSettled!(key, rawValue)
      return Promise.resolve(readPlain(this.#events, this.codec, key, sync.getSync!(key)))
    } catch (error) {
      return this.#getFailed(key, error)
    }
  }

  #getFailed(key: string, error: unknown): Promise<never> {
    if (error instanceof CellarError) this.#fail('get', key, error)
    return Promise.reject(error)
  }

  // getValue with a schema or a tracer, or on a store that is not synchronous.
  #getChecked(key: string, options: GetValueOptions | undefined): Promise<unknown> {
    const sync = this.#sync
    if (sync === undefined || isTracing()) return this.#getAsync(key, options)
    try {
      const value = this.#read(key, sync.getSync!(key), options?.schema, 'value')
      return value instanceof Promise ? value : Promise.resolve(value)
    } catch (error) {
      return this.#getFailed(key, error)
    }
  }

  #getAsync(key: string, options: GetValueOptions | undefined): Promise<unknown> {
    // A hit answered in-process (a two-tier store's trusted L1): one settled promise.
    const local = this.#local
    const stored = local === undefined || isTracing() ? undefined : local.getLocal!(key)
    if (stored !== undefined) {
      try {
        const value = this.#read(key, stored, options?.schema, 'value')
        return value instanceof Promise ? value : Promise.resolve(value)
      } catch (error) {
        return Promise.reject(error) // a schema that throws
      }
    }
    return this.#call('get', key, undefined, () => this.#store.get(key)).then((stored) =>
      this.#read(key, stored, options?.schema, 'value'),
    )
  }

  /** Like `getValue`, with the entry's metadata (see `setValue`'s `meta`). */
  getEntry<S extends StandardSchemaV1>(
    key: string,
    options: GetValueOptions<S> & { schema: S },
  ): Promise<GatewayEntry<StandardSchemaV1.InferOutput<S>> | undefined>
  getEntry<T = unknown>(
    key: string,
    options?: GetValueOptions,
  ): Promise<GatewayEntry<T> | undefined>
  getEntry(key: string, options?: GetValueOptions): Promise<unknown> {
    return this.#call('get', key, undefined, () => this.#store.get(key)).then((stored) =>
      this.#read(key, stored, options?.schema, 'entry'),
    )
  }

  /**
   * `getValue` without a promise, for in-process stores that declare `capabilities.synchronous`
   * (throws `E_UNSUPPORTED` otherwise, or when the schema validates asynchronously).
   */
  getValueSync<S extends StandardSchemaV1>(
    key: string,
    options: GetValueOptions<S> & { schema: S },
  ): StandardSchemaV1.InferOutput<S> | undefined
  getValueSync<T = unknown>(key: string, options?: GetValueOptions): T | undefined
  getValueSync(key: string, options?: GetValueOptions): unknown {
    const sync = this.#sync
    if (sync === undefined) {
      throw new UnsupportedError(`[cellar] store "${this.#name}" has no synchronous reads`, {
        key,
      })
    }
    // The traced calls are apart: their closures would make V8 allocate a context on every call.
    const stored = isTracing() ? traceGetSync(sync, this.#name, key) : sync.getSync!(key)
    const schema = options?.schema
    if (schema === undefined) return readPlain(this.#events, this.codec, key, stored)
    const value = this.#read(key, stored, schema, 'value')
    if (value instanceof Promise) {
      throw new UnsupportedError(
        `[cellar] getValueSync needs a synchronous schema; key "${key}" has an async one`,
        { key },
      )
    }
    return value
  }

  /** Resolves one value per key, in request order, `undefined` for misses. */
  multiGetValues<S extends StandardSchemaV1>(
    keys: readonly string[],
    options: GetValueOptions<S> & { schema: S },
  ): Promise<Array<StandardSchemaV1.InferOutput<S> | undefined>>
  multiGetValues<T = unknown>(
    keys: readonly string[],
    options?: GetValueOptions,
  ): Promise<Array<T | undefined>>
  async multiGetValues(keys: readonly string[], options?: GetValueOptions): Promise<unknown[]> {
    const stored = await this.#call('getMany', undefined, keys, () => this.#store.getMany(keys))
    const schema = options?.schema
    const values: unknown[] = new Array(keys.length)
    let pending = false
    for (let i = 0; i < keys.length; i++) {
      values[i] = readStored(
        this.#events,
        this.codec,
        keys[i]!,
        stored[i],
        schema,
        'value',
        'getMany',
      )
      if (values[i] instanceof Promise) pending = true
    }
    return pending ? Promise.all(values) : values
  }

  /**
   * Writes a value (`undefined` is refused: it reads back as a miss). `meta` (logical expiry,
   * fresh-until stamp) is stored alongside and only `getEntry` returns it.
   */
  setValue(key: string, value: unknown, ttl?: Ttl, meta?: EntryMeta): Promise<void> {
    try {
      const encoded = this.codec.encode(key, value, meta)
      if (this.#listeners.length !== 0 || isTracing()) return this.#setObserved(key, encoded, ttl)
      // No closure here (see getValue); a synchronous store has written when `setSync` returns.
      const sync = this.#sync
      if (sync?.setSync === undefined) return this.#store.set(key, encoded, ttl)
      sync.setSync(key, encoded, ttl)
      return SETTLED
    } catch (error) {
      return Promise.reject(error)
    }
  }

  #setObserved(key: string, encoded: unknown, ttl: Ttl | undefined): Promise<void> {
    const written = observeStoreCall(this.#events, 'set', key, undefined, () =>
      this.#store.set(key, encoded, ttl),
    )
    if (this.#listeners.length === 0) return written
    return written.then(() =>
      this.#emit({ type: 'write', key, operation: 'set', store: this.#name }),
    )
  }

  /**
   * `setValue` without a promise, for in-process stores that declare `capabilities.synchronous`
   * and write synchronously (`setSync`; throws `E_UNSUPPORTED` otherwise): the entry is written
   * when it returns, and bad input or a store error throws.
   */
  setValueSync(key: string, value: unknown, ttl?: Ttl, meta?: EntryMeta): void {
    const store = this.#sync
    if (store?.setSync === undefined) {
      throw new UnsupportedError(`[cellar] store "${this.#name}" has no synchronous writes`, {
        key,
      })
    }
    const encoded = this.codec.encode(key, value, meta)
    try {
      if (isTracing()) traceSetSync(store, this.#name, key, encoded, ttl)
      else store.setSync(key, encoded, ttl)
    } catch (error) {
      if (error instanceof CellarError) this.#fail('set', key, error)
      throw error
    }
    if (this.#listeners.length !== 0)
      this.#emit({ type: 'write', key, operation: 'set', store: this.#name })
  }

  /** Writes every entry with one TTL; nothing is written if any value fails to encode. */
  async multiSetValues(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttl?: Ttl,
  ): Promise<void> {
    const encoded = entries.map(([key, value]) => [key, this.codec.encode(key, value)] as const)
    const keys = entries.map(([key]) => key)
    await this.#call('setMany', undefined, keys, () => this.#store.setMany(encoded, ttl))
    for (const key of keys)
      this.#emit({ type: 'write', key, operation: 'setMany', store: this.#name })
  }

  /** Writes only if absent; resolves true if it wrote. */
  async addValue(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const encoded = this.codec.encode(key, value)
    const written = await this.#call('add', key, undefined, () =>
      this.#store.add(key, encoded, ttl),
    )
    this.#emit({ type: written ? 'write' : 'hit', key, operation: 'add', store: this.#name })
    return written
  }

  /** Resolves true if the key holds a live entry. */
  async exists(key: string): Promise<boolean> {
    const found = await this.#call('exists', key, undefined, () => this.#store.has(key))
    this.#emit({ type: found ? 'hit' : 'miss', key, operation: 'exists', store: this.#name })
    return found
  }

  /** Resolves true if a key was removed. */
  async delete(key: string): Promise<boolean> {
    const removed = await this.#call('delete', key, undefined, () => this.#store.delete(key))
    this.#emit({ type: 'delete', key, removed, operation: 'delete', store: this.#name })
    return removed
  }

  /** Resolves how many keys were removed. */
  async deleteMany(keys: readonly string[]): Promise<number> {
    const removed = await this.#call('deleteMany', undefined, keys, () =>
      this.#store.deleteMany(keys),
    )
    this.#emit({
      type: 'delete',
      key: undefined,
      keys: [...keys],
      removed,
      operation: 'deleteMany',
      store: this.#name,
    })
    return removed
  }

  /**
   * Atomically adds `delta` (default 1) with the store's native counter; resolves the new value.
   * `options.ttl` applies only when this increment creates the counter.
   */
  async incr(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    const value = await this.#call('increment', key, undefined, () =>
      this.#store.increment(key, delta, options),
    )
    this.#emit({ type: 'increment', key, value, operation: 'increment', store: this.#name })
    return value
  }

  /** Atomically subtracts `delta` (default 1); resolves the new value. */
  decr(key: string, delta = 1, options?: IncrementOptions): Promise<number> {
    return this.incr(key, -delta, options)
  }

  /** Replaces the TTL of a live entry; resolves true if it did (`<= 0` removes it). */
  async touch(key: string, ttl: Ttl): Promise<boolean> {
    const touched = await this.#call('touch', key, undefined, () => this.#store.touch(key, ttl))
    // A touch that found nothing emits nothing: it is not a read, and a `miss` would skew hit rates.
    if (touched) this.#emit({ type: 'touch', key, operation: 'touch', store: this.#name })
    return touched
  }

  /** Remaining milliseconds: `null` without expiry, `undefined` when missing. */
  ttl(key: string): Promise<number | null | undefined> {
    // Traced, but no hit/miss event: inspecting an entry is not reading it (a dashboard listing
    // TTLs would otherwise inflate the hit rate it shows).
    return this.#call('ttl', key, undefined, () => this.#store.ttl(key))
  }

  /** The live keys of this gateway's namespace; throws `E_UNSUPPORTED` on stores that can't list. */
  keys(): AsyncIterable<string> {
    const { keys } = this.#store
    if (!this.#store.capabilities.listsKeys || keys === undefined) {
      throw new UnsupportedError(`[cellar] store "${this.#store.name}" cannot list its keys`)
    }
    // Each page the store fetches is traced (operation 'keys') and its errors reported.
    return observeIterable(keys.call(this.#store), (next) =>
      this.#call('keys', undefined, undefined, next),
    )
  }

  /** Removes every entry of this gateway's namespace (never a lock). */
  async clear(): Promise<void> {
    await this.#call('clear', undefined, undefined, () => this.#store.clear())
    this.#emit({ type: 'clear', key: undefined, operation: 'clear', store: this.#name })
  }

  /** A lock on the store; throws `E_UNSUPPORTED` when the store declares no locks. */
  lock(name: string, options?: LockOptions): Lock {
    if (!this.#store.capabilities.locks || this.#store.lock === undefined) {
      throw new UnsupportedError(`[cellar] store "${this.#store.name}" does not support locks`, {
        key: name,
      })
    }
    return this.#store.lock(name, options)
  }

  /** Closes the store this gateway was built on (not only its `prefix` namespace). */
  close(): Promise<void> {
    return this.#root.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #read(key: string, stored: unknown, schema: StandardSchemaV1 | undefined, read: Read): unknown {
    return readStored(this.#events, this.codec, key, stored, schema, read, 'get')
  }

  #call<T>(
    operation: CacheOperation,
    key: string | undefined,
    keys: readonly string[] | undefined,
    op: () => Promise<T>,
  ): Promise<T> {
    return callStore(this.#events, operation, key, keys, op)
  }

  #emit(event: CacheEvent): void {
    this.#events.emit(event)
  }

  #fail(operation: CacheOperation, key: string | undefined, error: CellarError): void {
    this.#events.fail(operation, key, error)
  }
}
