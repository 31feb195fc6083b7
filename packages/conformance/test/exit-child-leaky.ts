import { NullStore } from '@cellar/core'

/**
 * The exit check's broken child module: its store starts a timer that close() never clears,
 * as a store whose sweep timer outlives it would, so the child never exits on its own.
 */
export function createStore(): NullStore {
  const store = new NullStore()
  setInterval(() => {}, 1_000)
  return store
}
