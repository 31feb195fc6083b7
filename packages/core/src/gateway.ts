import { decodeCounter, encodeCounter, SERIALIZED_TAG } from './counter.js'
import type { Ttl } from './duration.js'
import {
  CellarError,
  InvalidArgumentError,
  SerializationError,
  UnsupportedError,
} from './errors.js'
import type { CacheEventListener } from './events.js'
import type { Lock, LockOptions } from './lock.js'
import { MsgpackSerializer, type Serializer } from './serializer.js'
import type { StandardSchemaV1 } from './standard-schema.js'
import type { Store } from './store.js'

export interface CacheGatewayOptions {
  /**
   * Turns values into bytes for byte stores; raw stores skip it.
   * @default new MsgpackSerializer()
   */
  serializer?: Serializer
  /** Keys live under this namespace of the store (`store.namespace(prefix)`). */
  prefix?: string
  /** Receives hit / miss / write / delete / error events. */
  onEvent?: CacheEventListener
}

export interface GetValueOptions<S extends StandardSchemaV1 | undefined = undefined> {
  /** Validates (and may convert) what comes back; a value that fails is a miss plus an event. */
  schema?: S
}

type Output<S> = S extends StandardSchemaV1 ? StandardSchemaV1.InferOutput<S> : unknown

/**
 * Typed values over any store. Serialized payloads start with a tag byte; safe integers are
 * written as plain decimal, so `incr` stays the store's native atomic counter and a counter
 * reads back as a number.
 */
export class CacheGateway implements AsyncDisposable {
  readonly #store: Store<unknown>
  readonly #serializer: Serializer
  readonly #raw: boolean
  readonly #onEvent: CacheEventListener | undefined
  readonly #getSync: ((key: string) => unknown) | undefined

  constructor(store: Store<Uint8Array> | Store<unknown>, options: CacheGatewayOptions = {}) {
    const base = store as Store<unknown>
    this.#store = options.prefix === undefined ? base : base.namespace(options.prefix)
    this.#serializer = options.serializer ?? new MsgpackSerializer()
    this.#raw = store.capabilities.raw
    this.#onEvent = options.onEvent
    const { getSync } = this.#store
    this.#getSync =
      this.#store.capabilities.synchronous === true && getSync !== undefined
        ? getSync.bind(this.#store)
        : undefined
  }

  /** The store this gateway writes to (already namespaced by `prefix`). */
  get store(): Store<unknown> {
    return this.#store
  }

  /** Resolves the value, or `undefined` on a miss, an undecodable value or a schema failure. */
  getValue<S extends StandardSchemaV1 | undefined = undefined>(
    key: string,
    options?: GetValueOptions<S>,
  ): Promise<Output<S> | undefined> {
    const schema = options?.schema
    // The hot path: the store's own promise and no wrapper frames when nobody listens and
    // nothing validates (async wrappers cost more than the lookup on in-process stores).
    if (this.#onEvent === undefined && schema === undefined) {
      let pending: Promise<unknown>
      try {
        pending = this.#store.get(key)
      } catch (error) {
        return Promise.reject(error)
      }
      return pending.then((stored) =>
        stored === undefined ? undefined : this.#value(key, stored),
      ) as Promise<Output<S> | undefined>
    }
    return this.#call(key, () => this.#store.get(key)).then(
      (stored) => this.#read(key, stored, schema) as Promise<Output<S> | undefined>,
    )
  }

  /**
   * `getValue` without a promise, for in-process stores that declare `capabilities.synchronous`
   * (throws `E_UNSUPPORTED` otherwise, or when the schema validates asynchronously).
   */
  getValueSync<S extends StandardSchemaV1 | undefined = undefined>(
    key: string,
    options?: GetValueOptions<S>,
  ): Output<S> | undefined {
    const getSync = this.#getSync
    if (getSync === undefined) {
      throw new UnsupportedError(`[cellar] store "${this.#store.name}" has no synchronous reads`, {
        key,
      })
    }
    const stored = getSync(key)
    if (stored === undefined) {
      this.#emit('miss', key)
      return undefined
    }
    const value = this.#value(key, stored)
    const schema = options?.schema
    if (value === undefined) return undefined
    if (schema === undefined) {
      this.#emit('hit', key)
      return value as Output<S>
    }
    const result = schema['~standard'].validate(value)
    if (result instanceof Promise) {
      throw new UnsupportedError(
        `[cellar] getValueSync needs a synchronous schema; key "${key}" has an async one`,
        { key },
      )
    }
    return this.#checked(key, result) as Output<S> | undefined
  }

  /** Resolves one value per key, in request order, `undefined` for misses. */
  async multiGetValues<S extends StandardSchemaV1 | undefined = undefined>(
    keys: readonly string[],
    options?: GetValueOptions<S>,
  ): Promise<Array<Output<S> | undefined>> {
    const schema = options?.schema
    const stored = await this.#call(undefined, () => this.#store.getMany(keys))
    const values: Array<Output<S> | undefined> = new Array(keys.length)
    // Without a listener or a schema nothing here is async: decode in place, no await per key.
    const plain = this.#onEvent === undefined && schema === undefined
    for (let i = 0; i < keys.length; i++) {
      const entry = stored[i]
      values[i] = (
        plain
          ? entry === undefined
            ? undefined
            : this.#value(keys[i]!, entry)
          : await this.#read(keys[i]!, entry, schema)
      ) as Output<S> | undefined
    }
    return values
  }

  /** Writes a value (`undefined` is refused: it reads back as a miss). */
  setValue(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    let encoded: unknown
    try {
      encoded = this.#encode(key, value)
      // Nobody listens: hand back the store's own promise, no wrapper frame.
      if (this.#onEvent === undefined) return this.#store.set(key, encoded, ttl)
    } catch (error) {
      return Promise.reject(error)
    }
    return this.#observed(key, () => this.#store.set(key, encoded, ttl)).then(() =>
      this.#emit('write', key),
    )
  }

  /** Writes every entry with one TTL; nothing is written if any value fails to encode. */
  async multiSetValues(
    entries: ReadonlyArray<readonly [string, unknown]>,
    ttl?: Ttl,
  ): Promise<void> {
    const encoded = entries.map(([key, value]) => [key, this.#encode(key, value)] as const)
    await this.#call(undefined, () => this.#store.setMany(encoded, ttl))
    for (const [key] of entries) this.#emit('write', key)
  }

  /** Writes only if absent; resolves true if it wrote. */
  async addValue(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    const encoded = this.#encode(key, value)
    const written = await this.#call(key, () => this.#store.add(key, encoded, ttl))
    if (written) this.#emit('write', key)
    return written
  }

  /** Resolves true if the key holds a live entry. */
  exists(key: string): Promise<boolean> {
    return this.#call(key, () => this.#store.has(key))
  }

  /** Resolves true if a key was removed. */
  async delete(key: string): Promise<boolean> {
    const removed = await this.#call(key, () => this.#store.delete(key))
    if (removed) this.#emit('delete', key)
    return removed
  }

  /** Resolves how many keys were removed. */
  deleteMany(keys: readonly string[]): Promise<number> {
    return this.#call(undefined, () => this.#store.deleteMany(keys))
  }

  /** Atomically adds `delta` (default 1) with the store's native counter; resolves the new value. */
  incr(key: string, delta = 1): Promise<number> {
    return this.#call(key, () => this.#store.increment(key, delta))
  }

  /** Atomically subtracts `delta` (default 1); resolves the new value. */
  decr(key: string, delta = 1): Promise<number> {
    return this.incr(key, -delta)
  }

  /** Removes every entry of this gateway's namespace. */
  clear(): Promise<void> {
    return this.#call(undefined, () => this.#store.clear())
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

  /** Closes the underlying store. */
  close(): Promise<void> {
    return this.#store.close()
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #encode(key: string, value: unknown): unknown {
    if (value === undefined) {
      throw new InvalidArgumentError(
        `[cellar] cannot cache undefined for key "${key}" (it reads back as a miss); use null`,
        { key },
      )
    }
    if (this.#raw) return value
    if (typeof value === 'number' && Number.isSafeInteger(value)) return encodeCounter(value)
    try {
      if (this.#serializer.encodeTagged !== undefined) {
        return this.#serializer.encodeTagged(SERIALIZED_TAG, value)
      }
      const payload = this.#serializer.encode(value)
      const tagged = new Uint8Array(payload.length + 1)
      tagged[0] = SERIALIZED_TAG
      tagged.set(payload, 1)
      return tagged
    } catch (cause) {
      throw new SerializationError(
        `[cellar] ${this.#serializer.name} cannot encode the value for key "${key}"`,
        { key, cause },
      )
    }
  }

  async #read(
    key: string,
    stored: unknown,
    schema: StandardSchemaV1 | undefined,
  ): Promise<unknown> {
    if (stored === undefined) {
      this.#emit('miss', key)
      return undefined
    }
    const value = this.#value(key, stored)
    if (value === undefined) return undefined
    if (schema === undefined) {
      this.#emit('hit', key)
      return value
    }
    let result = schema['~standard'].validate(value)
    if (result instanceof Promise) result = await result
    return this.#checked(key, result)
  }

  /** The value a stored entry holds, or undefined (plus an error event) if it can't be decoded. */
  #value(key: string, stored: unknown): unknown {
    if (this.#raw) return stored
    try {
      return this.#decode(key, stored as Uint8Array)
    } catch (error) {
      this.#fail(key, error as CellarError)
      return undefined
    }
  }

  #checked(key: string, result: StandardSchemaV1.Result<unknown>): unknown {
    if (result.issues !== undefined) {
      const detail = result.issues.map((issue) => issue.message).join('; ')
      this.#fail(
        key,
        new SerializationError(`[cellar] value for key "${key}" failed its schema: ${detail}`, {
          key,
        }),
      )
      return undefined
    }
    this.#emit('hit', key)
    return result.value
  }

  #decode(key: string, bytes: Uint8Array): unknown {
    if (bytes[0] === SERIALIZED_TAG) {
      try {
        return this.#serializer.decode(bytes.subarray(1))
      } catch (cause) {
        throw new SerializationError(
          `[cellar] ${this.#serializer.name} cannot decode the value for key "${key}"`,
          { key, cause },
        )
      }
    }
    const counter = decodeCounter(bytes)
    if (counter === undefined) {
      throw new SerializationError(
        `[cellar] value for key "${key}" is neither a tagged payload nor a counter`,
        { key },
      )
    }
    return counter
  }

  // Not async itself: without a listener the store's own promise is returned untouched.
  #call<T>(key: string | undefined, op: () => Promise<T>): Promise<T> {
    if (this.#onEvent !== undefined) return this.#observed(key, op)
    try {
      return op()
    } catch (error) {
      // A store that throws instead of rejecting still gives the caller a rejected promise.
      return Promise.reject(error)
    }
  }

  async #observed<T>(key: string | undefined, op: () => Promise<T>): Promise<T> {
    try {
      return await op()
    } catch (error) {
      if (error instanceof CellarError) this.#fail(key, error)
      throw error
    }
  }

  #emit(type: 'hit' | 'miss' | 'write' | 'delete', key: string): void {
    if (this.#onEvent === undefined) return
    try {
      this.#onEvent({ type, key, store: this.#store.name })
    } catch {
      // A listener must not break the cache operation it observes.
    }
  }

  #fail(key: string | undefined, error: CellarError): void {
    if (this.#onEvent === undefined) return
    try {
      this.#onEvent({ type: 'error', key, store: this.#store.name, error })
    } catch {
      // See #emit.
    }
  }
}
