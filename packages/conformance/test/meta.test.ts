import assert from 'node:assert/strict'
import { describe, expect, test } from 'vitest'
import {
  createRecordingRunner,
  type DescribeSuite,
  describeAdd,
  describeBatch,
  describeClear,
  describeClosing,
  describeConcurrency,
  describeContractRules,
  describeCounters,
  describeCounterTtl,
  describeExpiryBoundary,
  describeKeys,
  describeLifecycle,
  describeLock,
  describeNamespaces,
  describeStore,
  describeTouchTtl,
  describeTtl,
  describeValues,
  type RecordedResult,
} from '../src/index.js'
import { type Fault, ReferenceStore } from './reference-store.js'

async function runOne(
  suite: DescribeSuite,
  faults: readonly Fault[],
  title: string,
): Promise<RecordedResult> {
  const recorder = createRecordingRunner()
  suite(recorder, () => new ReferenceStore({ faults }))
  const results = await recorder.run((recorded) => recorded.title === title)
  assert.equal(results.length, 1, `expected exactly one test titled "${title}"`)
  return results[0]!
}

// Each fault is a bug a real adapter could have; the named test must pass on the correct
// fixture and fail on the faulty one, proving the suite can fail for the right reason.
const cases: Array<[Fault, DescribeSuite, string]> = [
  ['ignores-ttl', describeTtl, 'an entry is present before its TTL (400ms) and gone after it'],
  ['empty-value-is-miss', describeValues, 'an empty Uint8Array is a hit, not a miss'],
  ['lossy-utf8-values', describeValues, 'all 256 byte values round-trip byte-exact'],
  [
    'racy-increment',
    describeConcurrency,
    '100 concurrent increments end at exactly 100, each result distinct',
  ],
  ['increment-drops-ttl', describeCounters, 'increment keeps the TTL: the counter still expires'],
  [
    'clear-ignores-prefix',
    describeClear,
    "clearing a namespace keeps the parent's and the sibling's keys",
  ],
  [
    'clear-like-pattern',
    describeClear,
    'clearing a namespace named with SQL LIKE characters removes nothing else',
  ],
  [
    'getmany-drops-duplicates',
    describeBatch,
    'getMany keeps request order, with misses and duplicates',
  ],
  ['case-insensitive-keys', describeKeys, 'keys that differ only in case are distinct'],
  ['partial-setmany', describeBatch, 'setMany with one invalid key writes nothing'],
  [
    'nan-ttl-is-forever',
    describeTtl,
    'ttl NaN is refused with E_INVALID_ARGUMENT and nothing is written',
  ],
  ['no-closed-check', describeLifecycle, 'get on a closed store rejects with E_STORE_CLOSED'],
  [
    'release-any-owner',
    describeLock,
    "another owner's release throws E_LOCK_NOT_OWNED and the lock stays",
  ],
  ['fencing-restarts', describeLock, 'fencing tokens strictly increase across acquires and owners'],
  ['ignores-ttl', describeAdd, 'add on an expired key takes it over'],
]

describe('the suite fails a broken store', () => {
  for (const [fault, suite, title] of cases) {
    test(`fault "${fault}" fails "${title}"`, async () => {
      const control = await runOne(suite, [], title)
      expect(control.status, String(control.error)).toBe('passed')
      const broken = await runOne(suite, [fault], title)
      expect(broken.status).toBe('failed')
      expect(broken.error).toBeInstanceOf(assert.AssertionError)
    })
  }
})

// Contract 2 and the store-defect rules: one mutant per rule.
const contractCases: Array<[Fault, DescribeSuite, string]> = [
  [
    'increment-ignores-create-ttl',
    describeCounterTtl,
    'the ttl of the increment that creates a counter makes it expire',
  ],
  [
    'increment-ignores-create-ttl',
    describeCounterTtl,
    '20 concurrent first increments with a ttl all count and leave that ttl',
  ],
  [
    'increment-ttl-on-existing',
    describeCounterTtl,
    'a counter without expiry ignores the ttl of a later increment',
  ],
  [
    'increment-ignores-create-ttl',
    describeCounterTtl,
    'a counter created by 20 concurrent first increments with a ttl expires',
  ],
  [
    'increment-ttl-on-existing',
    describeCounterTtl,
    'a counter keeps its own ttl when later increments pass another',
  ],
  [
    'touch-revives-expired',
    describeTouchTtl,
    'touch resolves false for an expired key and does not revive it',
  ],
  [
    'ttl-off-by-prefix',
    describeTouchTtl,
    "ttl reads a namespace's own entry, not the parent's key of the same name",
  ],
  [
    'namespace-aliases-root',
    describeNamespaces,
    "the root key 'users:42' and key '42' of namespace('users') are two entries",
  ],
  [
    'namespace-aliases-root',
    describeNamespaces,
    "names holding ':', '~' and '%' (and their escapes) are distinct namespaces",
  ],
  [
    'namespace-clear-hits-root',
    describeNamespaces,
    "namespace('users').clear() keeps the root's 'users:…' keys",
  ],
  ['no-tilde-escape', describeNamespaces, "root keys starting with '~' never reach a namespace"],
  [
    'closed-root-keeps-namespaces',
    describeClosing,
    'closing the store closes every namespace made from it, nested ones too',
  ],
  [
    'lock-outlives-close',
    describeClosing,
    'closing the store refuses every call of its lock handles, held or free',
  ],
  [
    'lock-outlives-close',
    describeClosing,
    'closing the store refuses every call of lock handles made from its namespaces',
  ],
  [
    'delete-expired-true',
    describeContractRules,
    'delete and deleteMany of an expired entry resolve false and do not count it',
  ],
  [
    'overflow-applied',
    describeContractRules,
    'an increment above Number.MAX_SAFE_INTEGER is refused with E_NOT_A_NUMBER and changes nothing',
  ],
  [
    'lenient-counters',
    describeContractRules,
    'increment on the non-canonical counter "007" throws E_NOT_A_NUMBER, bytes unchanged',
  ],
  [
    'lenient-counters',
    describeContractRules,
    'increment on the non-canonical counter "-0" throws E_NOT_A_NUMBER, bytes unchanged',
  ],
  [
    'accepts-lone-surrogates',
    describeContractRules,
    "a key with a lone surrogate ('\\uD800') is refused with E_INVALID_KEY, nothing written",
  ],
]

// describeExpiryBoundary takes a factory of the clock; it registers each test twice.
async function runBoundary(faults: readonly Fault[], title: string): Promise<RecordedResult[]> {
  const recorder = createRecordingRunner()
  describeExpiryBoundary(recorder, (now) => new ReferenceStore({ faults, now }))
  const results = await recorder.run((recorded) => recorded.title === title)
  assert.equal(results.length, 2, `expected "${title}" with a clock from 0 and from now`)
  return results
}

describe('the suite fails a store that breaks contract 2', () => {
  for (const [fault, suite, title] of contractCases) {
    test(`fault "${fault}" fails "${title}"`, async () => {
      const control = await runOne(suite, [], title)
      expect(control.status, String(control.error)).toBe('passed')
      const broken = await runOne(suite, [fault], title)
      expect(broken.status).toBe('failed')
      expect(broken.error).toBeInstanceOf(assert.AssertionError)
    })
  }

  const boundary = 'an entry is alive at exactly t + ttl and gone 1 ms later'
  test(`fault "expires-at-boundary" fails "${boundary}"`, async () => {
    for (const control of await runBoundary([], boundary)) {
      expect(control.status, String(control.error)).toBe('passed')
    }
    for (const broken of await runBoundary(['expires-at-boundary'], boundary)) {
      expect(broken.status).toBe('failed')
      expect(broken.error).toBeInstanceOf(assert.AssertionError)
    }
  })
})

describe('registration', () => {
  test('a skipped group is registered through test.skip with its reason', async () => {
    const recorder = createRecordingRunner()
    describeStore(recorder, () => new ReferenceStore(), { retainsValues: false })
    const tests = await recorder.collect()
    const skipped = tests.filter((recorded) => recorded.skipped)
    expect(skipped.map((recorded) => recorded.path.at(-1))).toContain('ttl')
    expect(skipped.find((recorded) => recorded.path.at(-1) === 'ttl')?.title).toBe(
      'skipped: the store keeps nothing (retainsValues: false); the "discards" group covers it',
    )
  })

  test('without test.skip, a skip is a passing test titled [not applicable]', async () => {
    const recorder = createRecordingRunner()
    const titles: string[] = []
    const runner = {
      describe: recorder.describe,
      test: (title: string, fn: () => void | Promise<void>) => {
        titles.push(title)
        recorder.test(title, fn)
      },
    }
    describeLock(runner, () => new ReferenceStore(), { locks: false })
    await recorder.collect()
    // One note per lock group, each stating the reason.
    expect(titles).toEqual([
      '[not applicable] skipped: the store declares no locks (locks: false)',
      '[not applicable] skipped: the store declares no locks (locks: false)',
    ])
  })

  test('an async factory registers its groups under the outer describe', async () => {
    const recorder = createRecordingRunner()
    describeStore(recorder, async () => new ReferenceStore(), { name: 'async' })
    const tests = await recorder.collect()
    expect(tests.length).toBeGreaterThan(100)
    expect(tests.every((recorded) => recorded.path[0] === 'async store conformance')).toBe(true)
  })

  test('a factory that throws registers one failing test instead of breaking collection', async () => {
    const recorder = createRecordingRunner()
    const boom = new Error('server not reachable')
    describeStore(recorder, () => {
      throw boom
    })
    const results = await recorder.run()
    expect(results).toHaveLength(1)
    expect(results[0]?.status).toBe('failed')
    expect(results[0]?.error).toBe(boom)
  })

  test('capabilities given in options skip the probe store', async () => {
    const recorder = createRecordingRunner()
    let built = 0
    const factory = () => {
      built++
      return new ReferenceStore()
    }
    const capabilities = { ...new ReferenceStore().capabilities }
    describeStore(recorder, factory, { ...capabilities, name: 'declared' })
    await recorder.collect()
    expect(built).toBe(0)
  })
})
