import { Redis } from 'ioredis'

/** Commands the server saw per call, and which (e.g. `2.00: MGET ×1.00, GET ×1.00`). */
export interface CommandCount {
  readonly perCall: number
  readonly summary: string
}

/**
 * Runs `call` `n` times, one after another, and counts the commands Redis receives meanwhile
 * with MONITOR (on the bench's own server, with nothing else running). A sentinel `ECHO` after
 * the last call marks the end, since MONITOR lines arrive asynchronously.
 */
export async function countCommands(
  url: string,
  n: number,
  call: (i: number) => Promise<unknown>,
): Promise<CommandCount> {
  const client = new Redis(url)
  const sender = new Redis(url)
  const monitor = await client.monitor()
  const end = `bench-count-end-${process.hrtime.bigint()}`
  const seen = new Map<string, number>()
  let total = 0
  const finished = new Promise<void>((resolve) => {
    monitor.on('monitor', (_time: string, args: string[]) => {
      const command = String(args[0]).toUpperCase()
      if (command === 'ECHO' && args[1] === end) return resolve()
      seen.set(command, (seen.get(command) ?? 0) + 1)
      total++
    })
  })
  // MONITOR starts with the next command the server handles: settle it before counting.
  await sender.ping()
  await new Promise((resolve) => setTimeout(resolve, 50))
  seen.clear()
  total = 0
  for (let i = 0; i < n; i++) await call(i)
  await sender.echo(end)
  await finished
  monitor.disconnect()
  client.disconnect()
  sender.disconnect()
  const parts = [...seen].map(([command, count]) => `${command} ×${(count / n).toFixed(2)}`)
  return {
    perCall: total / n,
    summary: `${(total / n).toFixed(2)}${parts.length === 0 ? '' : `: ${parts.join(', ')}`}`,
  }
}
