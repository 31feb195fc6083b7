import type { Knex } from 'knex'
import { describe, expect, expectTypeOf, test } from 'vitest'
import { KnexStore, type KnexStoreOptions } from '../src/index.js'
import { bytes, text } from './helpers.js'
import { useTargets } from './targets.js'

const { targets, open } = await useTargets()

let tables = 0
/** A store on tables of its own, with a hand-moved clock (the only clock it consults). */
function fresh(knex: Knex, prepared: boolean, extra: Partial<KnexStoreOptions> = {}) {
  tables++
  let now = Date.UTC(2030, 0, 1)
  const store = new KnexStore({
    knex,
    tableName: `c${tables}_${process.pid}_cache`,
    lockTableName: `c${tables}_${process.pid}_locks`,
    pruneInterval: false,
    preparedStatements: prepared,
    now: () => now,
    ...extra,
  })
  return {
    store,
    advance: (ms: number) => {
      now += ms
    },
  }
}

async function all(iterable: AsyncIterable<string>): Promise<string[]> {
  const keys: string[] = []
  for await (const key of iterable) keys.push(key)
  return keys.sort()
}

test('constructors take public options only (no internal context type)', () => {
  expectTypeOf<ConstructorParameters<typeof KnexStore>>().toEqualTypeOf<[KnexStoreOptions]>()
  expect(KnexStore.length).toBe(1)
})

for (const { name, target } of targets) {
  for (const prepared of [false, true]) {
    const mode = prepared ? ', preparedStatements' : ''
    describe.skipIf(target === undefined)(`KnexStore contract 2 on ${name}${mode}`, () => {
      if (target === undefined) return
      const knex = open(target)

      test('alive while now <= expires_at on every path; gone 1 ms later', async () => {
        const { store, advance } = fresh(knex, prepared)
        for (const key of ['get', 'touch', 'add', 'incr', 'del', 'ttl']) {
          await store.set(key, bytes(key === 'incr' ? '5' : 'v'), 1_000)
        }
        advance(1_000) // now == expires_at: every entry is still alive
        expect(text(await store.get('get'))).toBe('v')
        expect((await store.getMany(['get'])).map(text)).toEqual(['v'])
        expect(await store.has('get')).toBe(true)
        expect(await store.ttl('ttl')).toBe(1)
        expect(await all(store.keys())).toEqual(['add', 'del', 'get', 'incr', 'touch', 'ttl'])
        expect(await store.add('add', bytes('new'))).toBe(false)
        expect(await store.increment('incr')).toBe(6)
        expect(await store.delete('del')).toBe(true)
        expect(await store.prune()).toBe(0)
        advance(1) // now == expires_at + 1: gone everywhere
        expect(await store.get('get')).toBeUndefined()
        expect(await store.getMany(['get'])).toEqual([undefined])
        expect(await store.has('get')).toBe(false)
        expect(await store.ttl('ttl')).toBeUndefined()
        expect(await store.touch('touch', 60_000)).toBe(false)
        expect(await store.get('touch')).toBeUndefined() // never revived
        expect(await all(store.keys())).toEqual([])
        expect(await store.delete('get')).toBe(false) // expired but still in the table
        expect(await store.deleteMany(['ttl', 'touch'])).toBe(0)
        expect(await store.add('add', bytes('new'))).toBe(true)
        expect(await store.increment('incr')).toBe(1)
        expect(await store.prune()).toBe(3) // the expired 'get', 'touch' and 'ttl' rows
      })

      test('increment with a ttl sets it only when it creates the counter, in the same statement', async () => {
        const { store, advance } = fresh(knex, prepared)
        expect(await store.increment('hits', 1, { ttl: 10_000 })).toBe(1)
        expect(await store.ttl('hits')).toBe(10_000)
        advance(4_000)
        expect(await store.increment('hits', 2, { ttl: 99_000 })).toBe(3)
        expect(await store.ttl('hits')).toBe(6_000) // an existing counter keeps its TTL
        advance(6_001)
        expect(await store.increment('hits', 1, { ttl: '5s' })).toBe(1) // expired: created anew
        expect(await store.ttl('hits')).toBe(5_000)
        expect(await store.increment('forever', 1, { ttl: null })).toBe(1)
        expect(await store.ttl('forever')).toBeNull()
        // A TTL <= 0 on creation resolves delta and keeps nothing.
        expect(await store.increment('gone', 7, { ttl: '0s' })).toBe(7)
        expect(await store.get('gone')).toBeUndefined()
        expect(await store.has('gone')).toBe(false)
        expect(await store.increment('hits', 1, { ttl: 0 })).toBe(2) // live: keeps its TTL
        expect(await store.ttl('hits')).toBe(5_000)
        const { store: defaulted } = fresh(knex, prepared, { defaultTtl: 30_000 })
        expect(await defaulted.increment('n')).toBe(1) // ttl omitted: the default TTL
        expect(await defaulted.ttl('n')).toBe(30_000)
        expect(await store.increment('n')).toBe(1) // no default: no expiry
        expect(await store.ttl('n')).toBeNull()
        await Promise.all([store.close(), defaulted.close()])
      })

      test('touch replaces a live TTL, null removes it, <= 0 deletes, never revives', async () => {
        const { store, advance } = fresh(knex, prepared)
        await store.set('k', bytes('v'), 1_000)
        expect(await store.touch('k', 5_000)).toBe(true)
        advance(4_999)
        expect(await store.ttl('k')).toBe(1)
        expect(await store.touch('k', null)).toBe(true)
        expect(await store.ttl('k')).toBeNull()
        expect(text(await store.get('k'))).toBe('v')
        expect(await store.touch('missing', 1_000)).toBe(false)
        expect(await store.touch('k', '0s')).toBe(true)
        expect(await store.get('k')).toBeUndefined()
        expect(await store.touch('k', -1)).toBe(false)
        await store.set('old', bytes('v'), 10)
        advance(11)
        expect(await store.touch('old', -1)).toBe(false)
        await store.close()
      })

      test('ttl reports remaining ms rounded up, null without expiry, undefined when missing', async () => {
        const { store, advance } = fresh(knex, prepared)
        await store.set('frac', bytes('v'), 1_500.5)
        expect(await store.ttl('frac')).toBe(1_501)
        advance(1_234)
        expect(await store.ttl('frac')).toBe(267)
        await store.set('plain', bytes('v'))
        expect(await store.ttl('plain')).toBeNull()
        expect(await store.ttl('nothing')).toBeUndefined()
        expect(store.capabilities).toMatchObject({ readsTtl: true, listsKeys: true, evicts: false })
        await store.close()
      })

      test('keys() pages through this namespace only: live rows, no nested namespace, no lock', async () => {
        const { store, advance } = fresh(knex, prepared, { batchSize: 3 })
        const users = store.namespace('users')
        const plain = Array.from({ length: 10 }, (_, i) => `k${i}`)
        await store.setMany(plain.map((key) => [key, bytes(key)]))
        await store.set('users:42', bytes('root'))
        await store.set('~tilde', bytes('root'))
        await store.set('short', bytes('v'), 5)
        await users.set('42', bytes('ns'))
        await users.namespace('deep').set('x', bytes('nested'))
        await store.namespace('user').set('1', bytes('sibling'))
        await store.lock('a-lock').acquire()
        advance(6)
        expect(await all(store.keys())).toEqual([...plain, 'users:42', '~tilde'].sort())
        expect(await all(users.keys())).toEqual(['42'])
        expect(await all(users.namespace('none').keys())).toEqual([])
        await store.close()
      })

      test('namespaces cannot alias the parent or siblings; clear() keeps what is not its own', async () => {
        const { store } = fresh(knex, prepared)
        const users = store.namespace('users')
        const siblings = ['user', 'users2', 'users:', 'us%rs', 'us_rs'].map((n) =>
          store.namespace(n),
        )
        await store.set('users:42', bytes('root'))
        await store.set('~users:42', bytes('tilde'))
        await users.set('42', bytes('ns'))
        await users.namespace('deep').set('42', bytes('deep'))
        for (const sibling of siblings) await sibling.set('42', bytes('sibling'))
        expect(text(await store.get('users:42'))).toBe('root')
        expect(text(await users.get('42'))).toBe('ns')
        await users.clear()
        expect(await users.get('42')).toBeUndefined()
        expect(await users.namespace('deep').get('42')).toBeUndefined()
        expect(text(await store.get('users:42'))).toBe('root')
        expect(text(await store.get('~users:42'))).toBe('tilde')
        for (const sibling of siblings) expect(text(await sibling.get('42'))).toBe('sibling')
        await store.close()
      })

      test('clear() is a key range: prefixes ending in the last code points stay exact', async () => {
        const { store } = fresh(knex, prepared)
        const options = { knex, tableName: store.tableName, pruneInterval: false as const }
        const make = (prefix: string) => new KnexStore({ ...options, prefix })
        // The range of 'a\u{10FFFF}' ends at 'b'; the range of 'b\uD7FF' ends at 'b\uE000'
        // (the next code point that is not a surrogate).
        const mine = [make('a\u{10FFFF}'), make('b\uD7FF')]
        const theirs = [make('a'), make('b'), make('b\uE000')]
        for (const s of [...mine, ...theirs]) await s.set('k', bytes('v'))
        for (const s of mine) await s.clear()
        for (const s of mine) expect(await s.get('k')).toBeUndefined()
        for (const s of theirs) expect(text(await s.get('k'))).toBe('v')
        for (const s of [...mine, ...theirs]) await s.close()
        await store.close()
      })
    })
  }
}

for (const { name, target } of targets) {
  describe.skipIf(target === undefined)(`KnexStore closing rule on ${name}`, () => {
    if (target === undefined) return
    const knex = open(target)

    test('closing the root refuses every call of it, its namespaces and lock handles; nothing is written', async () => {
      const { store } = fresh(knex, false)
      const ns = store.namespace('ns')
      const deep = ns.namespace('deep')
      const held = store.lock('held', { ttl: 60_000 })
      expect(await held.acquire()).toBe(1)
      const early = [store.lock('early'), ns.lock('early'), deep.lock('early')]
      await store.close()
      const late = store.lock('late')
      for (const s of [store, ns, deep]) {
        const calls: Array<() => Promise<unknown>> = [
          () => s.get('k'),
          () => s.getMany(['k']),
          () => s.set('k', bytes('v')),
          () => s.setMany([['k', bytes('v')]]),
          () => s.add('k', bytes('v')),
          () => s.has('k'),
          () => s.delete('k'),
          () => s.deleteMany(['k']),
          () => s.increment('k', 1, { ttl: 1_000 }),
          () => s.touch('k', 1_000),
          () => s.ttl('k'),
          () => s.keys()[Symbol.asyncIterator]().next(),
          () => s.clear(),
          () => s.prune(),
        ]
        for (const call of calls) {
          const pending = call() // a rejected promise, never a synchronous throw
          await expect(pending).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
        }
      }
      for (const lock of [...early, late, held]) {
        await expect(lock.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
        await expect(lock.isLocked()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
        await expect(lock.forceRelease()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      }
      await expect(held.release()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      await expect(held.extend(1_000)).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      // The application's knex still works, and no late lock row was written with it.
      const names = (await knex(`c${tables}_${process.pid}_locks`).select('name')).map(
        (row: { name: unknown }) => String(row.name),
      )
      expect(names).toEqual(['held'])
    })

    test('closing a namespace releases nothing shared: the root and siblings go on', async () => {
      const { store } = fresh(knex, false)
      const a = store.namespace('a')
      const b = store.namespace('b')
      const lockA = a.lock('job')
      await a.close()
      await expect(a.set('k', bytes('v'))).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      await expect(lockA.acquire()).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
      await b.set('k', bytes('b'))
      await store.set('k', bytes('root'))
      expect(await b.lock('job').acquire()).toBe(1)
      expect(text(await b.get('k'))).toBe('b')
      expect(await store.increment('n')).toBe(1)
      await store.close()
      await expect(b.get('k')).rejects.toMatchObject({ code: 'E_STORE_CLOSED' })
    })

    test('keys with lone surrogates are refused before anything is written', async () => {
      const { store } = fresh(knex, false)
      await expect(store.set('\uD800', bytes('v'))).rejects.toMatchObject({
        code: 'E_INVALID_KEY',
      })
      await expect(store.increment(`user:${'🔑'.slice(0, 1)}`)).rejects.toMatchObject({
        code: 'E_INVALID_KEY',
      })
      expect(await all(store.keys())).toEqual([])
      await store.close()
    })

    test('a prefix with a lone surrogate is refused in the constructor', () => {
      // Both would reach the database as U+FFFD and share their rows.
      for (const prefix of ['app\uD800', `app:${'🔒'.slice(1)}`]) {
        expect(() => new KnexStore({ knex, prefix, pruneInterval: false })).toThrowError(
          expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
        )
      }
    })
  })
}
