import { loadavg } from 'node:os'

// Paired timing for a busy machine: in every iteration each contender makes one call, in a
// fresh shuffled order, each timed on its own. A stall of the machine hits one call, not a
// whole round; the median of per-iteration ratios compares calls made under the same load.

/** One contender of a table: `run(i)` is one call; `times` collects its milliseconds. */
export interface Contender {
  readonly name: string
  readonly run: (i: number) => Promise<unknown>
  readonly times: number[]
}

/** A contender named `name`, with no times yet. */
export function contender(name: string, run: (i: number) => Promise<unknown>): Contender {
  return { name, run, times: [] }
}

/** The load average (1, 5, 15 minutes), as `uptime` prints it. */
export function load(): string {
  return loadavg()
    .map((n) => n.toFixed(2))
    .join(' ')
}

let seed = 7
function random(): number {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31
  return seed / 2 ** 31
}

/** The `q` quantile (0–1) of `values`, nearest rank. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))]!
}

/** Runs `warmup` unrecorded then `iterations` recorded iterations, each contender once per. */
export async function measure(
  contenders: readonly Contender[],
  iterations: number,
  warmup = 50,
): Promise<void> {
  for (let i = -warmup; i < iterations; i++) {
    const order = [...contenders]
    for (let k = order.length - 1; k > 0; k--) {
      const j = Math.floor(random() * (k + 1))
      ;[order[k], order[j]] = [order[j]!, order[k]!]
    }
    for (const c of order) {
      const started = performance.now()
      await c.run(i + warmup)
      const took = performance.now() - started
      if (i >= 0) c.times.push(took)
    }
  }
}

/** Per-iteration ratios `slow / fast` (both ran in the same iteration). */
export function ratios(slow: Contender, fast: Contender): number[] {
  return fast.times.map((t, i) => slow.times[i]! / t)
}

/** How `fast` compares with `slow`, paired: median, quartiles, share of iterations ≥ target. */
export interface Comparison {
  readonly median: number
  readonly p25: number
  readonly p75: number
  /** Share (0–1) of iterations where `slow / fast` reached the target. */
  readonly atTarget: number
}

export function compare(slow: Contender, fast: Contender, target: number): Comparison {
  const r = ratios(slow, fast)
  return {
    median: quantile(r, 0.5),
    p25: quantile(r, 0.25),
    p75: quantile(r, 0.75),
    atTarget: r.filter((x) => x >= target).length / r.length,
  }
}

const us = (ms: number) => (ms * 1000).toFixed(ms < 0.1 ? 1 : 0)

/**
 * A markdown table: p50 and p99 per contender, and each contender against `reference` as the
 * median (quartiles) of per-iteration ratios `reference / contender`.
 */
export function table(
  title: string,
  startLoad: string,
  reference: Contender,
  contenders: readonly Contender[],
  target?: number,
): string {
  const iterations = reference.times.length
  const lines = [
    `\n### ${title} (${iterations} paired iterations; load average at start ${startLoad})\n`,
    `| contender | p50 µs | p99 µs | ${reference.name} ÷ it, paired median (p25–p75) |${target === undefined ? '' : ` iterations ≥ ${target}× |`}`,
    `| --- | ---: | ---: | ---: |${target === undefined ? '' : ' ---: |'}`,
  ]
  for (const c of contenders) {
    const cells = [c.name, us(quantile(c.times, 0.5)), us(quantile(c.times, 0.99))]
    if (c === reference) {
      cells.push('—')
      if (target !== undefined) cells.push('—')
    } else {
      const k = compare(reference, c, target ?? 1)
      cells.push(`${k.median.toFixed(2)}× (${k.p25.toFixed(2)}–${k.p75.toFixed(2)})`)
      if (target !== undefined) cells.push(`${(k.atTarget * 100).toFixed(0)}%`)
    }
    lines.push(`| ${cells.join(' | ')} |`)
  }
  return lines.join('\n')
}
