import assert from 'node:assert/strict'
import {
  BackendUnavailableError,
  CacheGateway,
  encodeCounter,
  type IncrementOptions,
  InvalidArgumentError,
  type Lock,
  type LockOptions,
  type Store,
  type StoreCapabilities,
  type Ttl,
} from '@cellar/core'
import { beforeAll, describe, expect, test } from 'vitest'
import {
  createRecordingRunner,
  type DescribeSuite,
  describeConcurrency,
  describeContractRules,
  describeCounterTtl,
  describeExpiryBoundary,
  describeLock,
  describeTouchTtl,
  type RecordedResult,
} from '../src/index.js'
import { ReferenceStore } from './reference-store.js'

// Issue 10 asked for a conformance case per contract rule that fails on the behaviour the
// stores had before the fix. meta.test.ts covers the rules the reference store can break by
// itself; the old behaviours below sat in core or in one store's driver, so a wrapper puts each
// back in front of a correct ReferenceStore, as it reached the store or the caller then.
type OldBehaviour =
  /** Item 1: memcached told the loser of a creation race NOT_STORED and reported it unavailable. */
  | 'lost-create-race'
  /** Item 2: `'0s'`, `'0ms'`, `'0m'` were "not a duration" (TTLs, block, retryInterval). */
  | 'zero-strings-refused'
  /** Item 5: lru-cache read a start time of 0 as "no TTL": written at clock 0, never expired. */
  | 'clock-zero-never-expires'
  /** Item 9: the gateway wrote `-0` as the counter "0". */
  | 'negative-zero-as-counter'
  /** Item 10: `extend()` on a `ttl: null` lock resolved and changed nothing. */
  | 'extend-null-ttl-resolves'

const ZERO_WITH_UNIT = /^\s*-?0*\.?0+\s*[a-z]+\s*$/i

/** The old duration check: a zero with a unit was refused like a bad string. */
function oldDuration(value: unknown, what: string): void {
  if (typeof value === 'string' && ZERO_WITH_UNIT.test(value)) {
    throw new InvalidArgumentError(`[cellar] ${what} ${JSON.stringify(value)} is not a duration`)
  }
}

/** What the current gateway writes for `-0` (a serialized value), filled in `beforeAll`. */
let negativeZero: Uint8Array

function isNegativeZero(value: unknown): boolean {
  return value instanceof Uint8Array && Buffer.from(value).equals(Buffer.from(negativeZero))
}

/** A correct ReferenceStore with one old behaviour in front of it. */
class OldStore implements Store<unknown> {
  readonly name = 'old'
  readonly #inner: ReferenceStore
  readonly #bug: OldBehaviour | undefined
  readonly #now: () => number

  constructor(inner: ReferenceStore, bug: OldBehaviour | undefined, now: () => number) {
    this.#inner = inner
    this.#bug = bug
    this.#now = now
  }

  get capabilities(): StoreCapabilities {
    return this.#inner.capabilities
  }

  get = (key: string) => this.#inner.get(key)
  getMany = (keys: readonly string[]) => this.#inner.getMany(keys)
  has = (key: string) => this.#inner.has(key)
  delete = (key: string) => this.#inner.delete(key)
  deleteMany = (keys: readonly string[]) => this.#inner.deleteMany(keys)
  ttl = (key: string) => this.#inner.ttl(key)
  keys = () => this.#inner.keys()
  clear = () => this.#inner.clear()
  close = () => this.#inner.close()

  async set(key: string, value: unknown, ttl?: Ttl): Promise<void> {
    return this.#inner.set(key, this.#value(value), this.#ttl(ttl))
  }

  async setMany(entries: ReadonlyArray<readonly [string, unknown]>, ttl?: Ttl): Promise<void> {
    const written = entries.map(([key, value]) => [key, this.#value(value)] as const)
    return this.#inner.setMany(written, this.#ttl(ttl))
  }

  async add(key: string, value: unknown, ttl?: Ttl): Promise<boolean> {
    return this.#inner.add(key, this.#value(value), this.#ttl(ttl))
  }

  async increment(key: string, delta?: number, options?: IncrementOptions): Promise<number> {
    const ttl = this.#ttl(options?.ttl)
    if (this.#bug === 'lost-create-race' && !(await this.#inner.has(key))) {
      // Two connections both found the key missing; the one whose create lands second was
      // told NOT_STORED, nothing applied, and the store gave up.
      await new Promise(setImmediate)
      if (await this.#inner.has(key)) {
        throw new BackendUnavailableError(`[cellar:old] increment "${key}" failed: NOT_STORED`)
      }
    }
    return this.#inner.increment(key, delta, options === undefined ? undefined : { ttl })
  }

  async touch(key: string, ttl: Ttl): Promise<boolean> {
    return this.#inner.touch(key, this.#ttl(ttl) ?? null)
  }

  namespace(name: string): OldStore {
    return new OldStore(this.#inner.namespace(name), this.#bug, this.#now)
  }

  lock(name: string, options?: LockOptions): Lock {
    if (this.#bug === 'zero-strings-refused') {
      oldDuration(options?.ttl, 'lock ttl')
      oldDuration(options?.retryInterval, 'retryInterval')
    }
    const inner = this.#inner.lock(name, options)
    const bug = this.#bug
    return new Proxy(inner, {
      get(target, property) {
        const member = Reflect.get(target, property, target)
        if (typeof member !== 'function') return member
        if (property === 'block' && bug === 'zero-strings-refused') {
          return async (timeout: unknown) => {
            oldDuration(timeout, 'block timeout')
            return member.call(target, timeout)
          }
        }
        if (property === 'extend' && bug === 'extend-null-ttl-resolves' && options?.ttl === null) {
          return async (ttl?: unknown) => (ttl === undefined ? undefined : member.call(target, ttl))
        }
        return member.bind(target)
      },
    })
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close()
  }

  #ttl(ttl: Ttl | undefined): Ttl | undefined {
    if (this.#bug === 'zero-strings-refused') oldDuration(ttl, 'ttl')
    const positive = ttl !== undefined && ttl !== null && ttl !== 'forever' && Number(ttl) > 0
    if (this.#bug === 'clock-zero-never-expires' && this.#now() === 0 && positive) return null
    return ttl
  }

  #value(value: unknown): unknown {
    if (this.#bug === 'negative-zero-as-counter' && isNegativeZero(value)) return encodeCounter(0)
    return value
  }
}

const build = (bug?: OldBehaviour) => () => new OldStore(new ReferenceStore(), bug, Date.now)

async function runOne(
  suite: DescribeSuite,
  bug: OldBehaviour | undefined,
  title: string,
): Promise<RecordedResult> {
  const recorder = createRecordingRunner()
  suite(recorder, build(bug))
  const results = await recorder.run((recorded) => recorded.title === title)
  assert.equal(results.length, 1, `expected exactly one test titled "${title}"`)
  return results[0]!
}

beforeAll(async () => {
  const probe = new ReferenceStore()
  await new CacheGateway(probe).setValue('probe', -0)
  negativeZero = (await probe.get('probe')) as Uint8Array
})

// [old behaviour, suite, test title, code of the error the old behaviour fails it with]
const cases: Array<[OldBehaviour, DescribeSuite, string, string | undefined]> = [
  [
    'lost-create-race',
    describeConcurrency,
    '100 concurrent increments end at exactly 100, each result distinct',
    'E_BACKEND_UNAVAILABLE',
  ],
  [
    'lost-create-race',
    describeCounterTtl,
    '20 concurrent first increments with a ttl all count and leave that ttl',
    'E_BACKEND_UNAVAILABLE',
  ],
  ...(['0s', '0ms', '0m'].map((zero) => [
    'zero-strings-refused',
    describeContractRules,
    `ttl '${zero}' removes the key on set and setMany, and add writes nothing`,
    'E_INVALID_ARGUMENT',
  ]) as Array<[OldBehaviour, DescribeSuite, string, string]>),
  [
    'zero-strings-refused',
    describeCounterTtl,
    "ttl '0s' on create resolves the delta and keeps nothing",
    'E_INVALID_ARGUMENT',
  ],
  [
    'zero-strings-refused',
    describeTouchTtl,
    "touch(key, '0s') removes a live key and resolves true",
    'E_INVALID_ARGUMENT',
  ],
  [
    'zero-strings-refused',
    describeLock,
    "zero durations as strings ('0s', '0ms') work as block timeout and retryInterval",
    'E_INVALID_ARGUMENT',
  ],
  [
    'negative-zero-as-counter',
    describeContractRules,
    '-0 round-trips through the gateway as -0',
    undefined,
  ],
  [
    'extend-null-ttl-resolves',
    describeLock,
    'extend() without a ttl on a ttl-null lock throws E_INVALID_ARGUMENT',
    undefined,
  ],
]

describe('issue 10: each rule fails on the behaviour before its fix', () => {
  for (const [bug, suite, title, code] of cases) {
    test(`old "${bug}" fails "${title}"`, async () => {
      const control = await runOne(suite, undefined, title)
      expect(control.status, String(control.error)).toBe('passed')
      const broken = await runOne(suite, bug, title)
      expect(broken.status).toBe('failed')
      if (code === undefined) expect(broken.error).toBeInstanceOf(assert.AssertionError)
      else expect((broken.error as { code?: unknown }).code).toBe(code)
    })
  }

  const boundary = 'an entry is alive at exactly t + ttl and gone 1 ms later'
  test(`old "clock-zero-never-expires" fails "${boundary}" with a clock from 0 only`, async () => {
    const run = async (bug?: OldBehaviour) => {
      const recorder = createRecordingRunner()
      describeExpiryBoundary(recorder, (now) => new OldStore(new ReferenceStore({ now }), bug, now))
      const results = await recorder.run((recorded) => recorded.title === boundary)
      assert.equal(results.length, 2, 'registered with a clock from 0 and from Date.now()')
      return results
    }
    for (const control of await run()) {
      expect(control.status, String(control.error)).toBe('passed')
    }
    const [fromZero, fromNow] = await run('clock-zero-never-expires')
    expect(fromZero!.test.path[0]).toContain('clock from 0')
    expect(fromZero!.status).toBe('failed')
    expect(fromZero!.error).toBeInstanceOf(assert.AssertionError)
    expect(fromNow!.status, String(fromNow!.error)).toBe('passed')
  })
})
