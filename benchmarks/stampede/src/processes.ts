// Section 2: 4 forked processes × 100 callers, one cold key, `lock: true` on Redis.
import { randomUUID } from 'node:crypto'
import { fileURLToPath } from 'node:url'
import { fmt, forkTs, LOADER_MS, load, median, nextMessage } from './common.js'
import type { ChildReport, Mode } from './processes-child.js'

const child = fileURLToPath(new URL('./processes-child.ts', import.meta.url))
const MODES: Array<[Mode, string]> = [
  ['poll-5', '`lock: { retryInterval: 5 }` (poll every 5–10 ms)'],
  ['poll-25', '`lock: true` (poll every 25–50 ms, the default)'],
  ['bus', '`lock: { bus }` (woken by a RedisBus message; poll as fallback)'],
  ...(process.env.BENCH_BEFORE === undefined
    ? []
    : ([['before-poll-25', 'before: `lock: true` (poll every 25–50 ms)']] as Array<
        [Mode, string]
      >)),
]

/** `rounds` rounds per mode, interleaved; each round a fresh key for the same 4 children. */
export async function processesSection(redisUrl: string, rounds: number): Promise<void> {
  const groups = new Map<Mode, ReturnType<typeof forkTs>[]>()
  for (const [mode] of MODES) {
    const prefix = `bench-procs-${randomUUID().slice(0, 8)}:`
    const children = Array.from({ length: 4 }, () => forkTs(child, [redisUrl, prefix, mode]))
    await Promise.all(children.map((c) => nextMessage(c)))
    groups.set(mode, children)
  }
  console.log(
    `\n## 4 processes × 100 callers, one cold key, a ${LOADER_MS} ms loader, Redis (${rounds} interleaved rounds; load average at start ${load()})\n`,
  )
  const results = new Map<Mode, Array<{ loads: number; ms: number }>>()
  for (let r = 0; r < rounds; r++) {
    for (const [mode] of MODES) {
      const children = groups.get(mode)!
      const key = `hot-${r}`
      const replies = children.map((c) => nextMessage<ChildReport>(c))
      const go = process.hrtime.bigint()
      for (const c of children) c.send(key)
      const reports = await Promise.all(replies)
      const last = reports.reduce(
        (max, rep) => (BigInt(rep.doneAt) > max ? BigInt(rep.doneAt) : max),
        0n,
      )
      const list = results.get(mode) ?? []
      list.push({
        loads: reports.reduce((sum, rep) => sum + rep.loads, 0),
        ms: Number(last - go) / 1e6,
      })
      results.set(mode, list)
    }
  }
  console.log(
    '| waiting processes | loader calls in total per round | "go" to every caller served, median ms (min–max) |',
  )
  console.log('| --- | --- | --- |')
  for (const [mode, label] of MODES) {
    const list = results.get(mode)!
    const ms = list.map((x) => x.ms)
    console.log(
      `| ${label} | ${list.map((x) => x.loads).join(', ')} | ${fmt(median(ms), 1)} (${fmt(Math.min(...ms), 1)}–${fmt(Math.max(...ms), 1)}) |`,
    )
  }
  console.log(`\nload average at the end of the section: ${load()}`)
  for (const children of groups.values()) for (const c of children) c.disconnect()
}
