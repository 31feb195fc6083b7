import type { Contender } from './contenders.js'

export type Op = 'get-hit' | 'get-miss' | 'set'
export const OPS: readonly Op[] = ['get-hit', 'get-miss', 'set']

/** Average nanoseconds per operation, by op and contender name. */
export type Results = Map<Op, Map<string, number>>

const opsPerSecond = (ns: number): number => 1e9 / ns

export function formatOps(ops: number): string {
  if (ops >= 1e6) return `${(ops / 1e6).toFixed(ops >= 1e7 ? 1 : 2)}M`
  if (ops >= 1e3) return `${(ops / 1e3).toFixed(0)}k`
  return ops.toFixed(0)
}

const ratio = (a: number, b: number | undefined): string =>
  b === undefined ? '—' : `${(a / b).toFixed(a / b >= 10 ? 1 : 2)}×`

/** Markdown: ops/s per op and contender, each as a ratio of lru-cache's, then byte mode vs peers. */
export function markdownReport(
  contenders: readonly Contender[],
  results: Results,
  spread: Map<string, [number, number]>,
): string {
  const ops = (op: Op, name: string): number | undefined => {
    const ns = results.get(op)?.get(name)
    return ns === undefined ? undefined : opsPerSecond(ns)
  }
  const lines = [
    '| contender | get-hit ops/s | vs lru-cache | get-miss ops/s | vs lru-cache | set ops/s | vs lru-cache |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: |',
  ]
  // Slowest to fastest round of each get-hit, to show the noise.
  const hitSpread = (name: string): string => {
    const ns = spread.get(`get-hit\t${name}`)
    return ns === undefined
      ? ''
      : ` (${formatOps(opsPerSecond(ns[1]))}–${formatOps(opsPerSecond(ns[0]))})`
  }
  for (const { name } of contenders) {
    const cells = OPS.flatMap((op) => {
      const value = ops(op, name)
      if (value === undefined) return ['—', '—']
      const shown = op === 'get-hit' ? `${formatOps(value)}${hitSpread(name)}` : formatOps(value)
      return [shown, ratio(value, ops(op, 'lru-cache'))]
    })
    lines.push(`| ${name} | ${cells.join(' | ')} |`)
  }
  const peers = contenders.filter((c) => c.serializes && c.kind === 'peer')
  const mine = contenders.filter((c) => c.serializes && c.kind !== 'peer')
  lines.push(
    '',
    `| byte mode vs serializing peers | ${peers.map((p) => `÷ ${p.name}`).join(' | ')} |`,
  )
  lines.push(`| --- | ${peers.map(() => '---:').join(' | ')} |`)
  for (const c of mine) {
    for (const op of OPS) {
      const value = ops(op, c.name)
      const cells = peers.map((p) => (value === undefined ? '—' : ratio(value, ops(op, p.name))))
      lines.push(`| ${c.name}, ${op} | ${cells.join(' | ')} |`)
    }
  }
  return lines.join('\n')
}

/** Markdown: the serializer alone. */
export function codecReport(results: Map<string, number>): string {
  const lines = ['| codec or copy, on the benchmark value | ops/s |', '| --- | ---: |']
  for (const [name, ns] of results) lines.push(`| ${name} | ${formatOps(opsPerSecond(ns))} |`)
  return lines.join('\n')
}

/** Issue 18's cells: cellar ÷ lru-cache (1 h TTL, default `ttlResolution`), and the targets. */
export function targetReport(results: Results): string {
  const ops = (op: Op, name: string): number | undefined => {
    const ns = results.get(op)?.get(name)
    return ns === undefined ? undefined : opsPerSecond(ns)
  }
  const cells: Array<[string, Op, string, string]> = [
    ['raw `getValueSync` get-hit', 'get-hit', 'cellar raw (gateway, getValueSync)', '≥ 0.7×'],
    ['raw `getValue` get-hit (promise)', 'get-hit', 'cellar raw (gateway)', '≥ 0.35×'],
    [
      'raw settled read get-hit',
      'get-hit',
      'cellar raw (gateway, settled read: proposed getValue)',
      '≥ 0.35×',
    ],
    ['raw `setValue`', 'set', 'cellar raw (gateway)', '≥ 0.6×'],
    ['raw `setValueSync`', 'set', 'cellar raw (gateway, getValueSync)', '≥ 0.6×'],
    ['raw `getValue` get-hit, not awaited', 'get-hit', 'cellar raw (gateway, not awaited)', '—'],
    [
      'raw settled read get-hit, not awaited',
      'get-hit',
      'cellar raw (gateway, settled read, not awaited)',
      '—',
    ],
    ['raw `setValue`, not awaited', 'set', 'cellar raw (gateway, not awaited)', '—'],

    [
      'floor: lru-cache + a shared settled promise, awaited',
      'get-hit',
      'lru-cache (then a shared settled promise)',
      '—',
    ],
    [
      'floor: lru-cache + Promise.resolve(value), awaited',
      'get-hit',
      'lru-cache (then Promise.resolve of the value)',
      '—',
    ],
    [
      'floor: lru-cache set + a shared settled promise, awaited',
      'set',
      'lru-cache (then a shared settled promise)',
      '—',
    ],
    [
      'raw `getValueSync` get-hit (before)',
      'get-hit',
      'cellar raw (gateway, getValueSync) (before)',
      '—',
    ],
    ['raw `getValue` get-hit (before)', 'get-hit', 'cellar raw (gateway) (before)', '—'],
    ['raw `setValue` (before)', 'set', 'cellar raw (gateway) (before)', '—'],
    ['raw `setValueSync` (before)', 'set', 'cellar raw (gateway, getValueSync) (before)', '—'],
    [
      'raw `getValue` get-hit, tracing subscriber',
      'get-hit',
      'cellar raw (gateway, tracing subscriber)',
      '—',
    ],
  ]
  const lines = [
    '| cell | ÷ lru-cache | ÷ lru-cache (async wrapper) | ÷ lru-cache (async wrapper, resolves the value) | target (÷ lru-cache) |',
    '| --- | ---: | ---: | ---: | --- |',
  ]
  for (const [label, op, name, target] of cells) {
    const value = ops(op, name)
    if (value === undefined) continue
    const floor = ratio(value, ops(op, 'lru-cache (async wrapper)'))
    const valueFloor = ratio(value, ops(op, 'lru-cache (async wrapper, resolves the value)'))
    lines.push(
      `| ${label} | ${ratio(value, ops(op, 'lru-cache'))} | ${floor} | ${valueFloor} | ${target} |`,
    )
  }
  lines.push(
    '',
    'Not awaited: the promise is dropped, so the row is the call itself without the microtask turn',
    'every awaited promise API pays. The `getValueSync` row writes with `setValueSync`.',
  )
  return lines.join('\n')
}
