/**
 * One running task per key in this process: a second caller for a key gets the promise of the
 * task already running for it, and the key is free again once that task settles.
 *
 * A caller that read the store before a task for its key finished may still get a miss back
 * after it finished (its read ran before the task's write landed). Such a caller passes the
 * `mark()` it took before reading, and shares the finished task's value instead of starting
 * another load: the value was current during its call.
 */
export class SingleFlight {
  readonly #running = new Map<string, Promise<unknown>>()
  // The latest fulfilled task per key, with the sequence number of its settling; bounded.
  readonly #settled = new Map<
    string,
    { readonly promise: Promise<unknown>; readonly seq: number }
  >()
  #seq = 0

  /** True while a task for `key` runs. */
  has(key: string): boolean {
    return this.#running.has(key)
  }

  /** A mark to take before reading the store; pass it to `run` after a miss. */
  mark(): number {
    return this.#seq
  }

  /**
   * The running task's promise for `key`, the value of one that finished after `since` (a
   * `mark()`), or `task()` started now and shared until it settles.
   */
  run<T>(key: string, task: () => Promise<T>, since?: number): Promise<T> {
    const running = this.#running.get(key)
    if (running !== undefined) return running as Promise<T>
    if (since !== undefined) {
      const done = this.#settled.get(key)
      if (done !== undefined && done.seq > since) return done.promise as Promise<T>
    }
    const promise = task()
    this.#running.set(key, promise)
    promise.then(
      () => this.#finish(key, promise),
      () => {
        // A failed load is not shared with late callers: they load again.
        this.#running.delete(key)
        this.#seq++
      },
    )
    return promise
  }

  #finish(key: string, promise: Promise<unknown>): void {
    this.#running.delete(key)
    this.#settled.delete(key)
    this.#settled.set(key, { promise, seq: ++this.#seq })
    // Late readers arrive within a round trip; a few hundred recent keys are plenty.
    if (this.#settled.size > SETTLED_KEYS) {
      const oldest = this.#settled.keys().next().value
      if (oldest !== undefined) this.#settled.delete(oldest)
    }
  }
}

const SETTLED_KEYS = 256

/**
 * Store reads of `remember` in flight in this process, one per key: a caller that arrives while
 * one runs takes its result instead of reading again, so a stampede of N callers costs one read,
 * not N. A write of the key through the same repository ends the sharing (`drop`), so a caller
 * that starts after the write never takes a read that began before it.
 */
export class SharedReads {
  readonly #reads = new Map<string, SharedRead>()

  /** The read of `key` in flight, if any. */
  get(key: string): SharedRead | undefined {
    return this.#reads.get(key)
  }

  /**
   * Shares `read` (begun after `since`, a `SingleFlight` mark) until `end` or `drop(key)`; the
   * caller that began it calls `end` once it settles.
   */
  begin(key: string, read: Promise<unknown>, since: number): SharedRead {
    const shared: SharedRead = { read, since }
    this.#reads.set(key, shared)
    return shared
  }

  /** `shared` (from `begin`) settled: callers from now on read again. */
  end(key: string, shared: SharedRead): void {
    if (this.#reads.get(key) === shared) this.#reads.delete(key)
  }

  /** `begin`, ended when `read` settles. */
  share<T>(key: string, read: Promise<T>, since: number): Promise<T> {
    const shared = this.begin(key, read, since)
    const done = () => this.end(key, shared)
    read.then(done, done)
    return read
  }

  /** A write of `key` began: callers from now on read for themselves. */
  drop(key: string): void {
    if (this.#reads.size !== 0) this.#reads.delete(key)
  }

  /** A write of every key (a flush) began. */
  dropAll(): void {
    this.#reads.clear()
  }
}

/** One shared read: its promise, and the `SingleFlight` mark taken before it began. */
export interface SharedRead {
  readonly read: Promise<unknown>
  readonly since: number
}
