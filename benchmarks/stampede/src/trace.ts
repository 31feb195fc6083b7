// Where the time of a Redis stampede goes: one cold key, 500 callers of `remember`, a 20 ms
// loader, with the store's calls and the loader timed (milliseconds since the first call,
// medians over the rounds). `tsx src/trace.ts [rounds] [lock]`.
import { randomUUID } from 'node:crypto'
import { createCache } from '@cellar/cache'
import type { Store } from '@cellar/core'
import { RedisStore } from '@cellar/redis'
import { useRedis } from '@cellar/test-servers'
import { CALLERS, fmt, LOADER_MS, load, median, sleep } from './common.js'

const rounds = Number(process.argv[2] ?? 15)
const locked = process.argv[3] === 'lock'
const redis = await useRedis()
if (!redis) throw new Error('the trace needs Redis')
let marks = new Map<string, number>()
let t0 = 0
const mark = (name: string) => {
  if (!marks.has(name)) marks.set(name, performance.now() - t0)
}
const markLast = (name: string) => marks.set(name, performance.now() - t0)

// Times the first and last call and reply of each store method.
function traced(store: Store<Uint8Array>): Store<Uint8Array> {
  return new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'constructor') return value
      if (property === 'namespace') return value.bind(target)
      return (...args: unknown[]) => {
        const name = String(property)
        mark(`${name} first call`)
        markLast(`${name} last call`)
        const result = value.apply(target, args)
        if (result instanceof Promise) {
          return result.then((v) => {
            mark(`${name} first reply`)
            markLast(`${name} last reply`)
            return v
          })
        }
        return result
      }
    },
  })
}

const store = new RedisStore({ connection: redis.url, prefix: `trace-${randomUUID()}:` })
const cache = createCache({ default: 'r', stores: { r: traced(store) } })
const all = new Map<string, number[]>()
// Per round: from the value's write acknowledged to the last caller served.
const gaps: number[] = []
for (let r = -2; r < rounds; r++) {
  marks = new Map()
  const key = `cold-${randomUUID()}`
  const loader = async () => {
    mark('loader start')
    await sleep(LOADER_MS)
    mark('loader end')
    return 'value'
  }
  t0 = performance.now()
  await Promise.all(
    Array.from({ length: CALLERS }, () =>
      (locked
        ? cache.remember(key, '1m', loader, { lock: true })
        : cache.remember(key, '1m', loader)
      ).then((v) => {
        mark('first caller served')
        markLast('last caller served')
        return v
      }),
    ),
  )
  if (r < 0) continue // warm-up rounds
  for (const [name, ms] of marks) all.set(name, [...(all.get(name) ?? []), ms])
  gaps.push(marks.get('last caller served')! - marks.get('set last reply')!)
}
console.log(
  `# trace of a Redis stampede${locked ? ' (lock: true)' : ''}: ${rounds} rounds, load average ${load()}\n`,
)
console.log('| event | ms since the first call, median (min–max) |\n| --- | --- |')
for (const [name, list] of [...all].sort((a, b) => median(a[1]) - median(b[1]))) {
  console.log(
    `| ${name} | ${fmt(median(list), 2)} (${fmt(Math.min(...list), 2)}–${fmt(Math.max(...list), 2)}) |`,
  )
}
console.log(
  `\nset acknowledged → last of the ${CALLERS} callers served, per round: median ${fmt(median(gaps), 3)} ms, max ${fmt(Math.max(...gaps), 3)} ms`,
)
await cache.close()
process.exit(0)
