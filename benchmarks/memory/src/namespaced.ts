// A namespaced gateway (`prefix: 'catalog'`, 15-character keys) against an un-prefixed one, raw
// mode, synchronous read and write; with BENCH_BEFORE=<checkout root> the same rows of that
// build in the same process. Fastest of interleaved rounds, process CPU time.
import { loadavg } from 'node:os'
import { CacheGateway } from '@cellar/core'
import { MemoryStore } from '@cellar/memory'
import { do_not_optimize, measure } from 'mitata'
import { type Build, loadBuildBefore } from './contenders.js'
import { cycle, PRODUCT, TTL_MS } from './fixture.js'

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 4)
const cpuNow = (): number => {
  const { user, system } = process.cpuUsage()
  return (user + system) * 1000
}
const KEYS = Array.from({ length: 1024 }, (_, i) => `product:${10_000 + i}`)

const jobs: Array<[string, () => unknown]> = []
const builds: Array<[string, Build]> = [['', { MemoryStore, CacheGateway }]]
const before = await loadBuildBefore()
if (before !== undefined) builds.push([' (before)', before])
for (const [label, build] of builds) {
  const plain = new build.CacheGateway(new build.MemoryStore({ raw: true }))
  const prefixed = new build.CacheGateway(new build.MemoryStore({ raw: true }), {
    prefix: 'catalog',
  })
  for (const key of KEYS) {
    plain.setValueSync(key, PRODUCT, TTL_MS)
    prefixed.setValueSync(key, PRODUCT, TTL_MS)
  }
  const readKey = cycle(KEYS)
  const writeKey = cycle(KEYS)
  const plainKey = cycle(KEYS)
  jobs.push([
    `prefixed getValueSync${label}`,
    () => do_not_optimize(prefixed.getValueSync(readKey())),
  ])
  jobs.push([
    `prefixed setValueSync${label}`,
    () => prefixed.setValueSync(writeKey(), PRODUCT, TTL_MS),
  ])
  jobs.push([
    `un-prefixed getValueSync${label}`,
    () => do_not_optimize(plain.getValueSync(plainKey())),
  ])
}

const loadBefore = loadavg()[0]!.toFixed(1)
const best = new Map(jobs.map(([name]) => [name, Number.POSITIVE_INFINITY]))
for (const [, fn] of jobs) for (let n = 0; n < 20_000; n++) fn()
for (let round = 0; round < ROUNDS; round++) {
  for (const [name, fn] of round % 2 === 0 ? jobs : [...jobs].reverse()) {
    const { avg } = await measure(fn, { min_cpu_time: 80e6, now: cpuNow })
    best.set(name, Math.min(best.get(name)!, avg))
  }
}
console.log(`\nNamespaced keys (fastest of ${ROUNDS} rounds, CPU time; load ${loadBefore})\n`)
console.log('| row | ns per call |\n| --- | ---: |')
for (const [name, ns] of best) console.log(`| ${name} | ${ns.toFixed(1)} |`)
