/** One load per key at a time within the process: concurrent callers share the first's promise. */
export class SingleFlight {
  readonly #running = new Map<string, Promise<unknown>>()

  /** Runs `load` unless one for `key` is running; resolves that run's result either way. */
  run<R>(key: string, load: () => Promise<R>): Promise<R> {
    const running = this.#running.get(key)
    if (running !== undefined) return running as Promise<R>
    const started = load().finally(() => this.#running.delete(key))
    this.#running.set(key, started)
    return started
  }

  /** How many loads are running. */
  get size(): number {
    return this.#running.size
  }
}
