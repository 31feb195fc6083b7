// Small helpers shared by the sections of the stampede benchmark.
import { fork } from 'node:child_process'
import { loadavg } from 'node:os'

export const CALLERS = 500
export const LOADER_MS = 20

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The q-quantile (nearest rank) of `values`. */
export function quantile(values: readonly number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b)
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(sorted.length * q) - 1))]!
}

export const median = (values: readonly number[]) => quantile(values, 0.5)

/** `uptime`'s three load averages. */
export const load = () =>
  loadavg()
    .map((l) => l.toFixed(2))
    .join(' / ')

/** `n` with thousands separators and `digits` decimals. */
export const fmt = (n: number, digits = 0) =>
  n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })

/** Forks `file` (TypeScript, run through tsx) with `args`; IPC open. */
export function forkTs(file: string, args: string[]) {
  return fork(file, args, {
    execArgv: ['--import', 'tsx'],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  })
}

/** The next IPC message of `child`, or a rejection if it exits first. */
export function nextMessage<T>(child: ReturnType<typeof forkTs>): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onExit = (code: number | null) =>
      reject(new Error(`child exited (${code}) before replying`))
    child.once('exit', onExit)
    child.once('message', (message) => {
      child.off('exit', onExit)
      resolve(message as T)
    })
  })
}
