import { loadavg } from 'node:os'
import { performance } from 'node:perf_hooks'

// Paired timing for a loaded machine: each iteration calls every contender once, in a fresh
// shuffled order, timing each call alone. A stall hits one call rather than one contender's
// whole run, and the median of per-iteration ratios compares calls made under the same load.

/**
 * One contender: `prepare(i)` builds the call's input untimed (an application holds its keys or
 * bounds before it reads), `run(input)` makes the timed call; `times` collects milliseconds.
 */
export interface Contender {
  readonly name: string
  readonly prepare: (i: number) => unknown
  readonly run: (input: never) => Promise<unknown>
  readonly times: number[]
}

/** A contender whose call takes the iteration number itself. */
export function contender(name: string, run: (i: number) => Promise<unknown>): Contender {
  return { name, prepare: (i) => i, run, times: [] }
}

/** A contender whose input is built outside the timed call. */
export function preparedContender<I>(
  name: string,
  prepare: (i: number) => I,
  run: (input: I) => Promise<unknown>,
): Contender {
  return { name, prepare, run, times: [] }
}

/** The 1, 5 and 15 minute load averages, as `uptime` prints them. */
export function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
}

let seed = 11
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

/** Nearest-rank quantile `q` (0–1). */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN
}

/** `warmup` unrecorded, then `iterations` recorded iterations; every contender once in each. */
export async function measure(contenders: readonly Contender[], iterations: number, warmup = 100) {
  for (let i = -warmup; i < iterations; i++) {
    const order = [...contenders]
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1))
      ;[order[k], order[j]] = [order[j] as Contender, order[k] as Contender]
    }
    for (const c of order) {
      const input = c.prepare(i + warmup) as never
      const started = performance.now()
      await c.run(input)
      const took = performance.now() - started
      if (i >= 0) c.times.push(took)
    }
  }
}

const us = (ms: number) => (ms * 1000).toFixed(ms < 0.1 ? 1 : 0)

/** A markdown table: p50/p99 per contender and `reference ÷ contender`, paired median (p25–p75). */
export function table(title: string, startLoad: string, reference: Contender, all: Contender[]) {
  const lines = [
    `\n### ${title} (${reference.times.length} paired iterations; load average at start ${startLoad})\n`,
    `| contender | p50 µs | p99 µs | ${reference.name} ÷ it, paired median (p25–p75) |`,
    '| --- | ---: | ---: | ---: |',
  ]
  for (const c of all) {
    const cells = [c.name, us(quantile(c.times, 0.5)), us(quantile(c.times, 0.99))]
    if (c === reference) cells.push('—')
    else {
      const r = c.times.map((t, i) => (reference.times[i] as number) / t)
      const f = (q: number) => quantile(r, q).toFixed(1)
      cells.push(`${f(0.5)}× (${f(0.25)}–${f(0.75)})`)
    }
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}

/** p50 / p99 / max of `samples`, in microseconds or milliseconds, for a one-line report. */
export function spread(samples: readonly number[]): string {
  const f = (ms: number) => (ms >= 1 ? `${ms.toFixed(1)} ms` : `${(ms * 1000).toFixed(0)} µs`)
  return `${f(quantile(samples, 0.5))} / ${f(quantile(samples, 0.99))} / ${f(Math.max(...samples))}`
}
