import type { FencingToken, LockBackend, LockState } from '@cellar/core'
import type { Response } from 'memjs'
import { incr } from './counter.js'
import { toExpiry } from './expiry.js'
import { seed } from './generations.js'
import type { KeySpace } from './keys.js'
import { counterExtras, ONCE, Op, Status, storeExtras, unexpected, type Wire } from './wire.js'

const ATTEMPTS = 5

interface Holder {
  readonly owner: string
  /** Epoch milliseconds, or null for a lock without expiry. */
  readonly expiresAt: number | null
}

// The value is `<expiresAt or empty>:<owner>`: memcached can't report an item's TTL, so the
// lock carries its own expiry for `remainingTime()` and for taking over an expired lock.
function encodeHolder(owner: string, expiresAt: number | null): Buffer {
  return Buffer.from(`${expiresAt ?? ''}:${owner}`)
}

function decodeHolder(value: Buffer): Holder | undefined {
  const text = value.toString('utf8')
  const colon = text.indexOf(':')
  if (colon < 0) return undefined
  const at = text.slice(0, colon)
  return { owner: text.slice(colon + 1), expiresAt: at === '' ? null : Number(at) }
}

function live(holder: Holder | undefined, now = Date.now()): holder is Holder {
  return holder !== undefined && (holder.expiresAt === null || holder.expiresAt > now)
}

function isRace(response: Response): boolean {
  const { status } = response.header
  return status === Status.EXISTS || status === Status.NOT_FOUND || status === Status.NOT_STORED
}

/**
 * Locks on memcached: `add` takes a free lock; release and extend read the holder with its CAS
 * and delete / rewrite only with that CAS, so they never touch a lock someone else took over.
 * Expiry is judged by the clients' clocks against the expiry stored in the lock (memcached's own
 * expiry, rounded up to whole seconds, removes it a little later); an expired lock is taken over
 * with a CAS write. Fencing tokens come from a native counter per lock name, seeded from the
 * clock so they keep increasing even if memcached loses the counter.
 */
export class MemcachedLockBackend implements LockBackend {
  readonly #wire: Wire
  readonly #space: KeySpace
  readonly #check: () => void

  constructor(wire: Wire, space: KeySpace, check: () => void) {
    this.#wire = wire
    this.#space = space
    this.#check = check
  }

  async acquire(name: string, owner: string, ttlMs: number | null): Promise<FencingToken | false> {
    this.#check()
    const key = this.#space.lockKey(name)
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const now = Date.now()
      const value = encodeHolder(owner, ttlMs === null ? null : now + ttlMs)
      const expiry = toExpiry(ttlMs, now)
      const extras = storeExtras(expiry.flags, expiry.exptime)
      const added = await this.#wire.send(Op.ADD, key, name, extras, value, undefined, ONCE)
      if (added.header.status === Status.OK) return this.#fence(name)
      if (!isRace(added)) throw unexpected(added, name)
      const held = await this.#read(key, name)
      if (held === undefined) continue
      if (live(decodeHolder(held.val))) return false
      const taken = await this.#wire.send(Op.SET, key, name, extras, value, held.header.cas, ONCE)
      if (taken.header.status === Status.OK) return this.#fence(name)
      if (!isRace(taken)) throw unexpected(taken, name)
    }
    return false
  }

  async release(name: string, owner: string): Promise<boolean> {
    this.#check()
    const key = this.#space.lockKey(name)
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const held = await this.#read(key, name)
      const holder = held === undefined ? undefined : decodeHolder(held.val)
      if (!live(holder) || holder.owner !== owner) return false
      const cas = held!.header.cas
      const removed = await this.#wire.send(Op.DELETE, key, name, undefined, undefined, cas, ONCE)
      if (removed.header.status === Status.OK) return true
      if (!isRace(removed)) throw unexpected(removed, name)
    }
    return false
  }

  async forceRelease(name: string): Promise<void> {
    this.#check()
    const response = await this.#wire.send(Op.DELETE, this.#space.lockKey(name), name)
    const { status } = response.header
    if (status !== Status.OK && status !== Status.NOT_FOUND) throw unexpected(response, name)
  }

  async extend(name: string, owner: string, ttlMs: number | null): Promise<boolean> {
    this.#check()
    const key = this.#space.lockKey(name)
    for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
      const held = await this.#read(key, name)
      const holder = held === undefined ? undefined : decodeHolder(held.val)
      if (!live(holder) || holder.owner !== owner) return false
      const now = Date.now()
      const expiry = toExpiry(ttlMs, now)
      const extras = storeExtras(expiry.flags, expiry.exptime)
      const value = encodeHolder(owner, ttlMs === null ? null : now + ttlMs)
      const cas = held!.header.cas
      const written = await this.#wire.send(Op.SET, key, name, extras, value, cas, ONCE)
      if (written.header.status === Status.OK) return true
      if (!isRace(written)) throw unexpected(written, name)
    }
    return false
  }

  async inspect(name: string): Promise<LockState | undefined> {
    this.#check()
    const held = await this.#read(this.#space.lockKey(name), name)
    const now = Date.now()
    const holder = held === undefined ? undefined : decodeHolder(held.val)
    if (!live(holder, now)) return undefined
    return {
      owner: holder.owner,
      remainingMs: holder.expiresAt === null ? null : holder.expiresAt - now,
    }
  }

  async #read(key: string, name: string): Promise<Response | undefined> {
    const response = await this.#wire.send(Op.GET, key, name)
    if (response.header.status === Status.NOT_FOUND) return undefined
    if (response.header.status !== Status.OK) throw unexpected(response, name)
    return response
  }

  async #fence(name: string): Promise<FencingToken> {
    const key = this.#space.fenceKey(name)
    const extras = counterExtras(1, seed(), 0)
    const response = await incr(this.#wire, key, name, extras)
    if (response.header.status !== Status.OK) throw unexpected(response, name)
    return Number(response.val.readBigUInt64BE(0))
  }
}
