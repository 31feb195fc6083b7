import { randomUUID } from 'node:crypto'
import { createRequire } from 'node:module'
import type { RedisStore } from '@cellar/redis'
import { Verrou } from '@verrou/core'
import { redisStore } from '@verrou/core/drivers/redis'
import { Redis as Redis5 } from 'ioredis'
import { Redis } from 'ioredis6'
// The store's own scripts, from source: a row that runs them on a bare client separates what
// the scripts cost in Redis from what the store's JavaScript costs.
import { ACQUIRE } from '../../../packages/redis/src/scripts.js'

/** One lock library under test: acquire then release one lock, refused attempts not counted. */
export interface LockContender {
  readonly name: string
  acquireRelease(name: string): Promise<unknown>
  close(): Promise<void>
}

export const LOCK_TTL_MS = 10_000

// The compare-and-delete every Redis lock library uses, run by SHA once loaded.
const RELEASE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0`

/** What cellar's lock does, through its public API: a new handle (random owner), acquire, release. */
export function cellarLock(name: string, store: Pick<RedisStore, 'lock' | 'close'>): LockContender {
  return {
    name,
    acquireRelease: async (lockName) => {
      const lock = store.lock(lockName, { ttl: LOCK_TTL_MS })
      if ((await lock.acquire()) === false) throw new Error(`${name}: lock ${lockName} was held`)
      await lock.release()
    },
    close: () => store.close(),
  }
}

/** The floor: SET NX PX with a fresh UUID owner, then EVALSHA compare-and-delete; no fencing. */
export async function rawLock(url: string): Promise<LockContender> {
  const client = new Redis(url)
  const sha = (await client.script('LOAD', RELEASE)) as string
  return {
    name: 'ioredis SET NX PX + Lua release',
    acquireRelease: async (lockName) => {
      const key = `bench:raw-lock:${lockName}`
      const owner = randomUUID()
      if ((await client.set(key, owner, 'PX', LOCK_TTL_MS, 'NX')) === null) {
        throw new Error(`raw lock ${lockName} was held`)
      }
      await client.evalsha(sha, 1, key, owner)
    },
    close: async () => {
      await client.quit()
    },
  }
}

/** cellar's acquire script (hash holder + fencing INCR) by EVALSHA and its `HDEL` release, on a bare client. */
export async function rawFencedLock(url: string): Promise<LockContender> {
  const client = new Redis(url)
  await client.script('LOAD', ACQUIRE.lua)
  return {
    name: "ioredis running cellar's lock commands",
    acquireRelease: async (lockName) => {
      const key = `bench-lock:{raw-fenced:${lockName}}`
      const owner = randomUUID()
      const token = await client.evalsha(ACQUIRE.sha, 2, key, `${key}:fence`, owner, LOCK_TTL_MS)
      if (token === null) throw new Error(`fenced raw lock ${lockName} was held`)
      await client.hdel(key, owner)
    },
    close: async () => {
      await client.quit()
    },
  }
}

/** verrou's Redis driver on its own ioredis 5 client, `acquireImmediately` + `release`. */
export function verrouLock(url: string): LockContender {
  const client = new Redis5(url)
  const verrou = new Verrou({
    default: 'redis',
    stores: { redis: { driver: redisStore({ connection: client }) } },
  })
  return {
    name: 'verrou (Redis driver)',
    acquireRelease: async (lockName) => {
      const lock = verrou.createLock(`bench:verrou:${lockName}`, LOCK_TTL_MS)
      if (!(await lock.acquireImmediately())) throw new Error(`verrou lock ${lockName} was held`)
      await lock.release()
    },
    close: async () => {
      await client.quit()
    },
  }
}

interface RedlockLock {
  unlock(): Promise<void>
}
interface Redlock {
  lock(resource: string, ttl: number): Promise<RedlockLock>
}
type RedlockConstructor = new (
  clients: unknown[],
  options: { retryCount: number; driftFactor?: number },
) => Redlock

/** redlock 4 (npm's latest) on one ioredis 5 client, no retries: `lock` + `unlock`. */
export function redlockLock(url: string): LockContender {
  const client = new Redis5(url)
  // redlock 4 ships no types; its constructor is all we call.
  const Redlock = createRequire(import.meta.url)('redlock') as RedlockConstructor
  const redlock = new Redlock([client], { retryCount: 0 })
  return {
    name: 'redlock 4 (one instance)',
    acquireRelease: async (lockName) => {
      const lock = await redlock.lock(`bench:redlock:${lockName}`, LOCK_TTL_MS)
      await lock.unlock()
    },
    close: async () => {
      await client.quit()
    },
  }
}
