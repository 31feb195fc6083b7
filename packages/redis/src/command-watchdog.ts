import type { Redis } from 'ioredis'

// What the watchdog reads of ioredis: its two queues (denque) and each waiting command's
// `reject`. `isSettled` (ioredis 6) or `isResolved` (5 and 6) tells a command already answered.
interface WaitingCommand {
  reject(error: Error): void
  readonly isResolved?: boolean
  readonly isSettled?: boolean
}
interface CommandQueue {
  readonly length: number
  peekAt(index: number): { readonly command: WaitingCommand } | undefined
}
interface Queues {
  readonly commandQueue?: CommandQueue
  readonly offlineQueue?: CommandQueue
}

// Marks a command the watchdog has already failed.
const FAILED = -1

/** How often the watchdog looks: a tenth of the timeout, between 5 ms and 500 ms. */
export function watchdogPeriod(timeoutMs: number): number {
  return Math.min(500, Math.max(5, Math.ceil(timeoutMs / 10)))
}

/**
 * `commandTimeout` without a timer per command. ioredis's own option arms and clears a
 * `setTimeout` around every command, which a latency-bound caller (a lock's acquire + release)
 * pays on each round trip. Instead one unref'd interval per client walks the commands still
 * waiting, in the offline queue or for a reply, notes when it first saw each, and fails with
 * ioredis's own `Command timed out` those seen waiting for `timeoutMs`. So a command fails at
 * the earliest `timeoutMs` and at the latest about two periods (a fifth of the timeout) later.
 * As with ioredis's timeout, a failed command stays queued and may still be applied.
 */
export function watchCommands(client: Redis, timeoutMs: number): NodeJS.Timeout {
  const firstSeen = new WeakMap<WaitingCommand, number>()
  const queues = client as unknown as Queues
  const sweep = (queue: CommandQueue | undefined, now: number): void => {
    if (queue === undefined) return
    for (let i = 0; i < queue.length; i++) {
      const command = queue.peekAt(i)?.command
      if (command === undefined || command.isSettled === true || command.isResolved === true) {
        continue
      }
      const seen = firstSeen.get(command)
      if (seen === undefined) firstSeen.set(command, now)
      else if (seen !== FAILED && now - seen >= timeoutMs) {
        firstSeen.set(command, FAILED)
        command.reject(new Error('Command timed out'))
      }
    }
  }
  const timer = setInterval(() => {
    const now = performance.now()
    sweep(queues.offlineQueue, now)
    sweep(queues.commandQueue, now)
  }, watchdogPeriod(timeoutMs))
  timer.unref()
  return timer
}

/**
 * The watchdog where the client has the queues it reads; otherwise (a future ioredis that moved
 * them) ioredis's own per-command timer, so a timeout is never silently lost. ioredis reads
 * `options.commandTimeout` on every command, so setting it after construction takes effect.
 */
export function timeCommands(client: Redis, timeoutMs: number): NodeJS.Timeout | undefined {
  const queues = client as unknown as Queues
  if (
    typeof queues.commandQueue?.peekAt !== 'function' ||
    typeof queues.offlineQueue?.peekAt !== 'function'
  ) {
    client.options.commandTimeout = timeoutMs
    return undefined
  }
  return watchCommands(client, timeoutMs)
}
