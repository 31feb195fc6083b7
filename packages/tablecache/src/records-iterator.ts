const DONE: Promise<IteratorResult<never, undefined>> = Promise.resolve({
  done: true,
  value: undefined,
})

/**
 * Iterates a read that gives an array (a storage hit, at once or resolved) or resolves to a
 * stream (the DB). The read starts on the first `next()`; array records then cost one settled
 * promise each, with no generator machinery in between.
 */
export class RecordsIterator<R> implements AsyncIterator<R, undefined> {
  readonly #start: () => readonly R[] | Promise<readonly R[] | AsyncIterable<R>>
  #pending: Promise<unknown> | undefined
  #array: readonly R[] | undefined
  #index = 0
  #stream: AsyncIterator<R> | undefined
  #finished = false

  constructor(start: () => readonly R[] | Promise<readonly R[] | AsyncIterable<R>>) {
    this.#start = start
  }

  next(): Promise<IteratorResult<R, undefined>> {
    const array = this.#array
    if (array !== undefined) {
      if (this.#index < array.length) {
        return Promise.resolve({ done: false, value: array[this.#index++] as R })
      }
      this.#finished = true
      return DONE
    }
    if (this.#stream !== undefined)
      return this.#stream.next() as Promise<IteratorResult<R, undefined>>
    if (this.#finished) return DONE
    if (this.#pending === undefined) {
      let started: readonly R[] | Promise<readonly R[] | AsyncIterable<R>>
      try {
        started = this.#start()
      } catch (error) {
        this.#finished = true
        return Promise.reject(error)
      }
      if (Array.isArray(started)) {
        this.#array = started
        touch(started)
        return this.next()
      }
      // Calls made meanwhile wait on the same promise: their callbacks run after this one's.
      const pending = started as Promise<readonly R[] | AsyncIterable<R>>
      this.#pending = pending
      return pending.then((found) => {
        if (Array.isArray(found)) {
          this.#array = found
          touch(found)
        } else this.#stream = (found as AsyncIterable<R>)[Symbol.asyncIterator]()
        return this.#resume()
      }, this.#failure())
    }
    return this.#pending.then(() => this.#resume(), this.#failure())
  }

  #failure(): (error: unknown) => never {
    return (error) => {
      this.#finished = true
      throw error
    }
  }

  // After the start resolved: an array's next result as a plain object (a promise from `next()`
  // would cost the caller's promise an adoption), a stream's `next()` as it is.
  #resume(): IteratorResult<R, undefined> | Promise<IteratorResult<R, undefined>> {
    const array = this.#array
    if (array === undefined) return this.next()
    if (this.#index < array.length) return { done: false, value: array[this.#index++] as R }
    this.#finished = true
    return { done: true, value: undefined }
  }

  async return(): Promise<IteratorResult<R, undefined>> {
    this.#finished = true
    this.#array = []
    const stream = this.#stream
    this.#stream = undefined
    if (stream?.return !== undefined) await stream.return()
    return { done: true, value: undefined }
  }
}

// Records handed out one per promise are read by the caller one at a time, each after an await,
// so the cache misses of records scattered in memory (a read by key) come one after another.
// Reading each record's type here loads them all in one loop, where the loads overlap.
// biome-ignore lint/correctness/noUnusedVariables: written so that the compiler keeps the loads
let objects = 0
function touch(records: readonly unknown[]): void {
  let n = 0
  for (let i = 0; i < records.length; i++) if (typeof records[i] === 'object') n++
  objects = n
}
