import { NullStore } from '@cellar/core'

/** The exit check's child module: a store that holds nothing open, so the child exits. */
export function createStore(): NullStore {
  return new NullStore()
}
