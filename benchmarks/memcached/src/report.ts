/** One measured figure: a contender doing one operation at one concurrency. */
export interface Cell {
  readonly op: string
  readonly concurrency: number
  readonly contender: string
  /** Operations per second of the fastest round. */
  readonly opsPerSecond: number
  /** Slowest round / fastest round (1 = steady). */
  readonly spread: number
  /** Process CPU time per operation, µs, lowest round (the server's work is not counted). */
  readonly cpuMicros: number
}

export interface RunInfo {
  readonly date: string
  readonly node: string
  readonly memcached: string
  readonly cpu: string
  readonly load: string
  readonly rounds: number
}

const CELLAR = 'cellar MemcachedStore + CacheGateway'
const RAW = 'raw memjs + msgpack'
const KEYV = '@keyv/memcache (keyv 5)'
const BASELINE = 'cellar @ baseline (default options)'

const format = (n: number | undefined) =>
  n === undefined ? '—' : `${(Math.round(n / 100) / 10).toFixed(1)}k`
const ratio = (a: number | undefined, b: number | undefined) =>
  a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`

/**
 * The results as a Markdown table, with cellar's ratios to raw memjs and to @keyv/memcache, and
 * (with a baseline checkout) the baseline's ratio to raw memjs measured in the same run.
 */
export function markdown(cells: readonly Cell[], info: RunInfo): string {
  const contenders = [...new Set(cells.map((c) => c.contender))]
  const hasBaseline = contenders.includes(BASELINE)
  const find = (op: string, concurrency: number, contender: string) =>
    cells.find((c) => c.op === op && c.concurrency === concurrency && c.contender === contender)
      ?.opsPerSecond
  const extra = hasBaseline ? ' baseline / raw |' : ''
  const rows: string[] = [
    `| op | concurrency | ${contenders.join(' | ')} | cellar / raw | cellar / keyv |${extra}`,
    `| --- | ---: | ${contenders.map(() => '---:').join(' | ')} | ---: | ---: |${hasBaseline ? ' ---: |' : ''}`,
  ]
  for (const key of new Set(cells.map((c) => `${c.op}\t${c.concurrency}`))) {
    const [op, level] = key.split('\t') as [string, string]
    const concurrency = Number(level)
    const figures = contenders.map((name) => find(op, concurrency, name))
    const cellar = find(op, concurrency, CELLAR)
    const raw = find(op, concurrency, RAW)
    const before = hasBaseline ? ` ${ratio(find(op, concurrency, BASELINE), raw)} |` : ''
    rows.push(
      `| ${op} | ${concurrency} | ${figures.map(format).join(' | ')} | ${ratio(cellar, raw)} | ${ratio(cellar, find(op, concurrency, KEYV))} |${before}`,
    )
  }
  const steadiest = Math.min(...cells.map((c) => c.spread))
  const cpu = (op: string, concurrency: number, contender: string) =>
    cells.find((c) => c.op === op && c.concurrency === concurrency && c.contender === contender)
      ?.cpuMicros
  const cpuRows = [
    `| op | concurrency | ${contenders.join(' | ')} |`,
    `| --- | ---: | ${contenders.map(() => '---:').join(' | ')} |`,
    ...[...new Set(cells.map((c) => `${c.op}\t${c.concurrency}`))].map((key) => {
      const [op, level] = key.split('\t') as [string, string]
      const figures = contenders.map((name) => cpu(op, Number(level), name))
      return `| ${op} | ${level} | ${figures.map((n) => (n === undefined ? '—' : n.toFixed(1))).join(' | ')} |`
    }),
  ]
  return [
    '',
    `ops/s, fastest of ${info.rounds} rounds (the slowest round of any cell was ${Math.round((1 - steadiest) * 100)}% below its fastest)`,
    '',
    ...rows,
    '',
    'process CPU µs per operation, lowest round (client side only; steadier than ops/s on a busy machine)',
    '',
    ...cpuRows,
    '',
    `${info.date} · Node ${info.node} · memcached ${info.memcached} on loopback · ${info.cpu} · load ${info.load}`,
    '',
  ].join('\n')
}
