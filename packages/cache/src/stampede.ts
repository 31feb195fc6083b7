import {
  type CacheGateway,
  type Duration,
  type GatewayEntry,
  parseDuration,
  resolveTtl,
  type Ttl,
  UnsupportedError,
} from '@cellar/core'
import type { CacheEmitter } from './emitter.js'
import { LoaderTimeoutError } from './errors.js'
import type { RememberOptions } from './remember-options.js'
import { SharedReads } from './single-flight.js'
import { nap, Wakeups } from './stampede-wake.js'

/** What `Stampede` needs from the repository that owns it. */
export interface StampedeContext {
  readonly storeName: string
  readonly events: CacheEmitter
  readonly ttl: Ttl
  /** Cache-wide defaults of every `remember` call. */
  readonly defaults?: RememberOptions
}

interface Plan {
  readonly lock:
    | { ttlMs: number; waitMs: number; retryMs: number; wakeups: Wakeups | undefined }
    | undefined
  readonly graceMs: number | undefined
  readonly backoffMs: number
  readonly timeoutMs: number | undefined
  readonly hardTimeoutMs: number | undefined
}

type Loader<T> = () => T | Promise<T>
type Once = <T>(key: string, task: () => Promise<T>, since?: number) => Promise<T>
type Put = (key: string, value: unknown, ttl: Ttl) => Promise<unknown>

/**
 * The engine behind `remember`: in-process single-flight (through the repository's `once`), an
 * optional cross-process lock, grace with back-off, and soft/hard timeouts.
 */
export class Stampede {
  readonly #gateway: CacheGateway
  readonly #context: StampedeContext
  readonly #once: Once
  readonly #mark: () => number
  readonly #put: Put
  readonly #failedUntil = new Map<string, number>()
  readonly #detached = new Set<Promise<unknown>>()
  // Reads in flight shared by concurrent callers of one key: values (plain path), entries (options).
  readonly #values = new SharedReads()
  readonly #entries = new SharedReads()

  /**
   * `once` is the repository's single-flight and `mark` its mark (see `SingleFlight`); `put` its
   * write (a fake records it).
   */
  constructor(
    gateway: CacheGateway,
    context: StampedeContext,
    once: Once,
    put: Put,
    mark: () => number = () => 0,
  ) {
    this.#gateway = gateway
    this.#context = context
    this.#once = once
    this.#mark = mark
    this.#put = put
  }

  /** `remember` with stampede options; see `RememberOptions`. */
  remember<T>(key: string, ttl: Ttl, loader: Loader<T>, options?: RememberOptions): Promise<T> {
    if (options !== undefined || this.#context.defaults !== undefined) {
      return this.#guarded(key, ttl, loader, options)
    }
    // The plain path: one read, then single-flight; no option parsing on a hot key. The mark
    // taken before the read lets a miss that raced a finishing load share that load's value.
    // Callers that arrive while a read of the key runs share it (and its mark).
    const shared = this.#values.get(key)
    if (shared !== undefined) {
      return (shared.read as Promise<T | undefined>).then((hit) =>
        hit !== undefined
          ? hit
          : this.#once(key, () => this.#plainLoad(key, ttl, loader), shared.since),
      )
    }
    const since = this.#mark()
    const read = this.#gateway.getValue<T>(key)
    const mine = this.#values.begin(key, read, since)
    // The sharing ends in the leader's own reaction to the read: no extra promise job per call.
    return read.then(
      (hit) => {
        this.#values.end(key, mine)
        return hit !== undefined
          ? hit
          : this.#once(key, () => this.#plainLoad(key, ttl, loader), since)
      },
      (error: unknown) => {
        this.#values.end(key, mine)
        throw error
      },
    )
  }

  /**
   * A write of `key` through this cache began: a caller from now on reads the store itself
   * rather than share a read that began before the write.
   */
  written(key: string): void {
    this.#values.drop(key)
    this.#entries.drop(key)
  }

  /** A flush began: no read in flight is shared any more. */
  flushed(): void {
    this.#values.dropAll()
    this.#entries.dropAll()
  }

  async #plainLoad<T>(key: string, ttl: Ttl, loader: Loader<T>): Promise<T> {
    const value = await loader()
    if (value !== undefined) await this.#put(key, value, ttl)
    return value
  }

  async #guarded<T>(
    key: string,
    ttl: Ttl,
    loader: Loader<T>,
    options: RememberOptions | undefined,
  ): Promise<T> {
    const merged = { ...this.#context.defaults, ...options }
    const plan = this.#plan(key, merged, options?.lock !== undefined)
    merged.signal?.throwIfAborted()
    let entry: GatewayEntry<T> | undefined
    const reading = this.#entries.get(key)
    const since = reading === undefined ? this.#mark() : reading.since
    try {
      entry = await (reading === undefined
        ? this.#entries.share(key, this.#gateway.getEntry<T>(key), since)
        : (reading.read as Promise<GatewayEntry<T> | undefined>))
    } catch (error) {
      // Fail open: the gateway has already reported the failure as an `error` event.
      if (plan.graceMs === undefined) throw error
    }
    if (entry !== undefined && isFresh(entry)) return entry.value
    const stale = entry
    if (stale !== undefined && (this.#failedUntil.get(key) ?? 0) > Date.now()) {
      this.#context.events.emit('servedStale', {
        store: this.#context.storeName,
        key,
        reason: 'backoff',
      })
      return stale.value
    }
    const ttlMs = resolveTtl(ttl === undefined ? this.#context.ttl : ttl, null, key)
    const shared = this.#once(key, () => this.#produce(key, ttl, ttlMs, loader, plan), since)
    return this.#await(key, shared, stale, plan, merged.signal)
  }

  #plan(key: string, options: RememberOptions, explicitLock: boolean): Plan {
    const store = this.#gateway.store
    let lock: Plan['lock']
    if (options.lock !== undefined && options.lock !== false) {
      if (!store.capabilities.locks) {
        // A cache-wide default is skipped on stores without locks; a per-call request is refused.
        if (explicitLock) {
          throw new UnsupportedError(
            `[cellar:cache] remember({ lock }) needs locks, and store "${this.#context.storeName}" (${store.name}) has none`,
            { key },
          )
        }
      } else {
        const spec = options.lock === true ? {} : options.lock
        const ttlMs = parseDuration(spec.ttl ?? '10s', 'lock ttl', key)
        lock = {
          ttlMs,
          waitMs: spec.wait === undefined ? ttlMs : parseDuration(spec.wait, 'lock wait', key),
          retryMs: parseDuration(spec.retryInterval ?? 25, 'lock retryInterval', key),
          wakeups:
            spec.bus === undefined
              ? undefined
              : Wakeups.of(spec.bus, spec.channel ?? 'cellar:remember'),
        }
      }
    }
    const ms = (value: Duration | undefined, name: string) =>
      value === undefined ? undefined : parseDuration(value, name, key)
    return {
      lock,
      graceMs: ms(options.grace, 'grace'),
      backoffMs: ms(options.graceBackoff, 'graceBackoff') ?? 10_000,
      timeoutMs: ms(options.timeout, 'timeout'),
      hardTimeoutMs: ms(options.hardTimeout, 'hardTimeout'),
    }
  }

  // One load for this process: the loader (under the cross-process lock when asked), then the write.
  async #produce<T>(
    key: string,
    ttl: Ttl,
    ttlMs: number | null,
    loader: Loader<T>,
    plan: Plan,
  ): Promise<T> {
    try {
      const value =
        plan.lock === undefined
          ? await this.#load(key, ttl, ttlMs, loader, plan)
          : await this.#loadLocked(key, ttl, ttlMs, loader, plan, plan.lock)
      this.#failedUntil.delete(key)
      return value
    } catch (error) {
      if (plan.graceMs !== undefined) {
        if (this.#failedUntil.size >= 10_000) this.#failedUntil.clear()
        this.#failedUntil.set(key, Date.now() + plan.backoffMs)
      }
      throw error
    }
  }

  async #loadLocked<T>(
    key: string,
    ttl: Ttl,
    ttlMs: number | null,
    loader: Loader<T>,
    plan: Plan,
    lock: NonNullable<Plan['lock']>,
  ): Promise<T> {
    const handle = this.#gateway.lock(`remember:${key}`, { ttl: lock.ttlMs })
    const deadline = Date.now() + lock.waitMs
    const wakeups = lock.wakeups
    // Listening before the first try, so an announcement just after a refused acquire is heard.
    if (wakeups !== undefined) await wakeups.ready
    for (;;) {
      const alarm = wakeups?.alarm(key)
      try {
        if ((await handle.acquire()) !== false) {
          // Renewed while the loader runs, so only a dead leader's lock expires.
          const heartbeat = setInterval(() => handle.extend().catch(() => {}), lock.ttlMs / 3)
          heartbeat.unref()
          let announced = false
          try {
            // Someone may have written between our last look and the acquire.
            const entry = await this.#gateway.getEntry<T>(key)
            if (entry !== undefined && isFresh(entry)) return entry.value
            const value = await this.#load(key, ttl, ttlMs, loader, plan)
            if (wakeups !== undefined && value !== undefined) {
              // The value is written: the waiting processes can read it before the release lands.
              wakeups.announce(key)
              announced = true
            }
            return value
          } finally {
            clearInterval(heartbeat)
            // Not awaited: this process's callers have the value; the others read it from the
            // store. A lost lock (a stalled process) is not this caller's error.
            const released = handle.release().then(
              () => {},
              () => {},
            )
            if (wakeups !== undefined && !announced) released.then(() => wakeups.announce(key))
          }
        }
        await nap(lock.retryMs + Math.random() * lock.retryMs, alarm)
      } finally {
        alarm?.off()
      }
      const entry = await this.#gateway.getEntry<T>(key)
      if (entry !== undefined && isFresh(entry)) return entry.value
      if (Date.now() >= deadline) return this.#load(key, ttl, ttlMs, loader, plan)
    }
  }

  async #load<T>(
    key: string,
    ttl: Ttl,
    ttlMs: number | null,
    loader: Loader<T>,
    plan: Plan,
  ): Promise<T> {
    const value = await loader()
    if (value === undefined) return value
    try {
      if (plan.graceMs !== undefined && ttlMs !== null && ttlMs > 0) {
        await this.#gateway.setValue(key, value, ttlMs + plan.graceMs, {
          expiresAt: Date.now() + ttlMs,
        })
      } else {
        await this.#put(key, value, ttl)
      }
    } catch (error) {
      // With grace a value beats a cache write (the gateway reported the failure as an event).
      if (plan.graceMs === undefined) throw error
    }
    return value
  }

  // One caller's view of the shared load: its own signal and timeouts, the stale fallback.
  #await<T>(
    key: string,
    shared: Promise<T>,
    stale: GatewayEntry<T> | undefined,
    plan: Plan,
    signal: AbortSignal | undefined,
  ): Promise<T> {
    const { events, storeName: store } = this.#context
    return new Promise<T>((resolve, reject) => {
      const timers: NodeJS.Timeout[] = []
      let settled = false
      const finish = (action: () => void) => {
        if (settled) return
        settled = true
        for (const timer of timers) clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        action()
      }
      const onAbort = () => finish(() => reject(signal!.reason))
      signal?.addEventListener('abort', onAbort, { once: true })
      const serveStale = (reason: 'error' | 'timeout', error?: unknown) => {
        events.emit('servedStale', { store, key, reason, ...(error !== undefined && { error }) })
        resolve(stale!.value)
      }
      if (plan.timeoutMs !== undefined && stale !== undefined) {
        timers.push(
          setTimeout(() => {
            finish(() => {
              this.#detach(key, shared)
              serveStale('timeout')
            })
          }, plan.timeoutMs),
        )
      }
      if (plan.hardTimeoutMs !== undefined) {
        const ms = plan.hardTimeoutMs
        timers.push(
          setTimeout(() => {
            finish(() => {
              this.#detach(key, shared)
              reject(
                new LoaderTimeoutError(
                  `[cellar:cache] loader of "${key}" ran past its hardTimeout of ${ms}ms`,
                  key,
                ),
              )
            })
          }, ms),
        )
      }
      shared.then(
        (value) => finish(() => resolve(value)),
        (error: unknown) =>
          finish(() => {
            if (stale !== undefined && plan.graceMs !== undefined) serveStale('error', error)
            else reject(error)
          }),
      )
    })
  }

  // A load nobody waits for any more still finishes; its failure is reported once, as an event.
  #detach(key: string, shared: Promise<unknown>): void {
    if (this.#detached.has(shared)) return
    this.#detached.add(shared)
    shared
      .catch((error: unknown) =>
        this.#context.events.emit('error', { store: this.#context.storeName, key, error }),
      )
      .finally(() => this.#detached.delete(shared))
  }
}

function isFresh(entry: GatewayEntry<unknown>): boolean {
  const expiresAt = entry.meta?.expiresAt
  return expiresAt === undefined || Date.now() <= expiresAt
}
