import type { FencingToken, LockState } from '@cellar/core'

/** One deliberate bug of the reference store, so the meta-test can prove the suite catches it. */
export type Fault =
  | 'ignores-ttl'
  | 'empty-value-is-miss'
  | 'racy-increment'
  | 'increment-drops-ttl'
  | 'clear-ignores-prefix'
  | 'clear-like-pattern'
  | 'getmany-drops-duplicates'
  | 'case-insensitive-keys'
  | 'lossy-utf8-values'
  | 'partial-setmany'
  | 'nan-ttl-is-forever'
  | 'no-closed-check'
  | 'release-any-owner'
  | 'fencing-restarts'
  // Contract 2 and the store-defect rules.
  | 'increment-ignores-create-ttl'
  | 'increment-ttl-on-existing'
  | 'touch-revives-expired'
  | 'ttl-off-by-prefix'
  | 'namespace-aliases-root'
  | 'namespace-clear-hits-root'
  | 'no-tilde-escape'
  | 'closed-root-keeps-namespaces'
  | 'lock-outlives-close'
  | 'delete-expired-true'
  | 'overflow-applied'
  | 'lenient-counters'
  | 'accepts-lone-surrogates'
  | 'expires-at-boundary'

/** A stored entry; `expiresAt` in the store's clock, `null` for no expiry. */
export interface Entry {
  value: unknown
  expiresAt: number | null
}

interface Holder {
  owner: string
  expiresAt: number | null
}

/**
 * What every client of one reference "backend" shares: entries, lock holders and fencing
 * counters, under one clock. An entry is alive while `now <= expiresAt`.
 */
export class Shared {
  readonly entries = new Map<string, Entry>()
  readonly holders = new Map<string, Holder>()
  readonly fences = new Map<string, number>()
  readonly faults: ReadonlySet<Fault>
  readonly now: () => number

  constructor(faults: ReadonlySet<Fault>, now: () => number) {
    this.faults = faults
    this.now = now
  }

  /** True when an entry expiring at `expiresAt` is gone now. */
  expired(expiresAt: number | null): boolean {
    if (expiresAt === null) return false
    const now = this.now()
    return this.faults.has('expires-at-boundary') ? expiresAt <= now : expiresAt < now
  }

  /** The live entry at `stored`, dropping an expired one. */
  live(stored: string): Entry | undefined {
    const entry = this.entries.get(stored)
    if (entry !== undefined && this.expired(entry.expiresAt)) {
      this.entries.delete(stored)
      return undefined
    }
    return entry
  }

  holder(name: string): Holder | undefined {
    const holder = this.holders.get(name)
    if (holder !== undefined && this.expired(holder.expiresAt)) {
      this.holders.delete(name)
      return undefined
    }
    return holder
  }

  acquire(name: string, owner: string, ttlMs: number | null): FencingToken | false {
    if (this.holder(name) !== undefined) return false
    this.holders.set(name, { owner, expiresAt: ttlMs === null ? null : this.now() + ttlMs })
    const token = (this.fences.get(name) ?? 0) + 1
    this.fences.set(name, token)
    return token
  }

  release(name: string, owner: string): boolean {
    const holder = this.holder(name)
    if (holder === undefined) return false
    if (holder.owner !== owner && !this.faults.has('release-any-owner')) return false
    this.holders.delete(name)
    if (this.faults.has('fencing-restarts')) this.fences.delete(name)
    return true
  }

  forceRelease(name: string): void {
    this.holders.delete(name)
  }

  extend(name: string, owner: string, ttlMs: number | null): boolean {
    const holder = this.holder(name)
    if (holder?.owner !== owner) return false
    holder.expiresAt = ttlMs === null ? null : this.now() + ttlMs
    return true
  }

  inspect(name: string): LockState | undefined {
    const holder = this.holder(name)
    if (holder === undefined) return undefined
    const remainingMs = holder.expiresAt === null ? null : holder.expiresAt - this.now()
    return { owner: holder.owner, remainingMs }
  }
}
