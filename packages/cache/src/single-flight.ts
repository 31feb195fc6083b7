/**
 * One running task per key in this process: a second caller for a key gets the promise of the
 * task already running for it, and the key is free again once that task settles.
 */
export class SingleFlight {
  readonly #running = new Map<string, Promise<unknown>>()

  /** True while a task for `key` runs. */
  has(key: string): boolean {
    return this.#running.has(key)
  }

  /** The running task's promise for `key`, or `task()` started now and shared until it settles. */
  run<T>(key: string, task: () => Promise<T>): Promise<T> {
    const running = this.#running.get(key)
    if (running !== undefined) return running as Promise<T>
    const promise = task().finally(() => this.#running.delete(key))
    this.#running.set(key, promise)
    return promise
  }
}
