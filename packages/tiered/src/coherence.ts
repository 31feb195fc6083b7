import { randomUUID } from 'node:crypto'
import type { Bus, BusStatus, Store } from '@cellar/core'

// What travels on the bus: who sent it, which namespace, and the keys (never a value), or a
// clear of that namespace.
interface Message {
  readonly o: string
  readonly p: readonly string[]
  readonly k?: readonly string[]
  readonly c?: 1
}

const BUCKETS = 4096

// FNV-1a over the namespace path and the key: which epoch bucket a key belongs to.
function bucketOf(path: readonly string[], key: string): number {
  let hash = 0x811c9dc5
  // String(): a bad key reaches L2, which refuses it with E_INVALID_KEY; it must not throw here.
  for (const part of path.length === 0 ? [String(key)] : [...path, String(key)]) {
    for (let i = 0; i < part.length; i++) {
      hash ^= part.charCodeAt(i)
      hash = Math.imul(hash, 0x01000193)
    }
    hash ^= 0x2f
  }
  return (hash >>> 0) % BUCKETS
}

/**
 * The state every namespace of one tiered store shares: whether L1 can be trusted, epochs that
 * move on every invalidation (so a read that raced one does not fill L1), and the bus.
 */
export class Coherence {
  readonly l1TtlMs: number
  readonly #bus: Bus | null
  readonly #channel: string
  readonly #origin = randomUUID()
  readonly #root: Store<Uint8Array>
  readonly #scopes = new Map<string, Store<Uint8Array>>()
  readonly #ready: Promise<void>
  #trusted: boolean
  #listening: boolean
  #epoch = 0
  // Per-bucket epochs, so an invalidation of one key does not stop fills of every other key.
  readonly #buckets = new Uint32Array(BUCKETS)
  #unsubscribe: (() => Promise<void>) | undefined
  #offStatus: (() => void) | undefined

  constructor(bus: Bus | null, channel: string, root: Store<Uint8Array>, l1TtlMs: number) {
    this.#bus = bus
    this.#channel = channel
    this.#root = root
    this.l1TtlMs = l1TtlMs
    this.#trusted = bus === null
    this.#listening = bus === null
    this.#ready = bus === null ? Promise.resolve() : this.#listen(bus)
  }

  /** True while L1 may serve reads: the bus is up (or there is none). */
  get trusted(): boolean {
    return this.#trusted
  }

  /**
   * A number that changes whenever `key` (of namespace `path`) may have been invalidated: on a
   * message naming it (or a key of its bucket), a clear, or a change of bus status.
   */
  stamp(path: readonly string[], key: string): number {
    // Both counters only grow, so their sum changes exactly when either does.
    return this.#epoch + this.#buckets[bucketOf(path, key)]!
  }

  /**
   * Moves the epochs of these keys (this instance changed them): a read already in flight may
   * have fetched the old value, and must not put it into L1.
   */
  invalidate(path: readonly string[], keys: readonly string[]): void {
    for (const key of keys) this.#buckets[bucketOf(path, key)]!++
  }

  /** `invalidate` for every key of every namespace (this instance cleared). */
  invalidateAll(): void {
    this.#epoch++
  }

  /** True once `ready()` has resolved: hot reads then skip awaiting it. */
  get listening(): boolean {
    return this.#listening
  }

  /** Resolves once the subscription is in place (or has failed, leaving L1 untrusted). */
  ready(): Promise<void> {
    return this.#ready
  }

  /**
   * True when a message published right after a `set`/`delete`/`deleteMany` call on `store`
   * cannot overtake that write (see `Bus.orderedWith`); false without a bus.
   */
  orderedWith(store: Store<Uint8Array>): boolean {
    return this.#bus !== null && this.#bus.orderedWith?.(store) === true
  }

  /** Tells the other instances that these keys of namespace `path` changed. */
  publish(path: readonly string[], keys: readonly string[]): Promise<void> {
    if (this.#bus === null || keys.length === 0) return Promise.resolve()
    const message: Message = { o: this.#origin, p: path, k: keys }
    // Sent in the caller's tick: nothing stands between the L2 acknowledgement and the publish.
    return this.#bus.publish(this.#channel, JSON.stringify(message))
  }

  /** Tells the other instances to clear namespace `path` of their L1. */
  publishClear(path: readonly string[]): Promise<void> {
    if (this.#bus === null) return Promise.resolve()
    const message: Message = { o: this.#origin, p: path, c: 1 }
    return this.#bus.publish(this.#channel, JSON.stringify(message))
  }

  /** Stops listening (the bus itself belongs to the caller). */
  async close(): Promise<void> {
    this.#trusted = false
    this.#offStatus?.()
    await this.#ready
    await this.#unsubscribe?.().catch(() => {})
  }

  async #listen(bus: Bus): Promise<void> {
    this.#offStatus = bus.onStatus((status) => this.#onStatus(status))
    try {
      this.#unsubscribe = await bus.subscribe(this.#channel, (raw) => this.#receive(raw))
      this.#trusted = bus.connected
    } catch {
      this.#trusted = false
    }
    this.#listening = true
  }

  #onStatus(status: BusStatus): void {
    this.#epoch++
    // Messages may have been missed while down: drop everything, on the way down and back up.
    this.#root.clear().catch(() => {})
    this.#trusted = status === 'up'
  }

  #receive(raw: string): void {
    let message: Message
    try {
      message = JSON.parse(raw) as Message
    } catch {
      return
    }
    if (message.o === this.#origin || !Array.isArray(message.p)) return
    const scope = this.#scope(message.p)
    if (message.c === 1) {
      this.#epoch++
      scope.clear().catch(() => {})
    } else if (Array.isArray(message.k)) {
      for (const key of message.k) this.#buckets[bucketOf(message.p, key)]!++
      scope.deleteMany(message.k).catch(() => {})
    }
  }

  #scope(path: readonly string[]): Store<Uint8Array> {
    const id = path.map((name) => `${name.length}:${name}`).join('/')
    let scope = this.#scopes.get(id)
    if (scope === undefined) {
      scope = path.reduce((store, name) => store.namespace(name), this.#root)
      if (this.#scopes.size >= 1_000) this.#scopes.clear()
      this.#scopes.set(id, scope)
    }
    return scope
  }
}
