import { MemoryStore } from '../src/index.js'

/** The conformance exit check's child: a store as an application builds it (default sweep). */
export function createStore(): MemoryStore {
  return new MemoryStore()
}
