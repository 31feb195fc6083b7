/**
 * Wraps an async iterable so that every `next()` goes through `step` — the gateway's way of
 * tracing each page of a `keys()` listing and reporting its errors like any other store call.
 */
export function observeIterable<T>(
  source: AsyncIterable<T>,
  step: (next: () => Promise<IteratorResult<T>>) => Promise<IteratorResult<T>>,
): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const iterator = source[Symbol.asyncIterator]()
      const ending = iterator.return?.bind(iterator)
      return {
        next: () => step(() => iterator.next()),
        // A `break` out of `for await` still releases what the store holds (a cursor, a handle).
        ...(ending === undefined ? {} : { return: (value?: unknown) => ending(value) }),
      }
    },
  }
}
