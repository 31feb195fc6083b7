import type { Redis } from 'ioredis'
import { Command } from 'ioredis'
import type { Connection } from './connection.js'

/**
 * A command written as one buffer: the RESP text runs between the binary arguments are each
 * measured and written once. ioredis's own `toWritable` measures and writes every fragment of a
 * command that has a buffer argument separately (about a dozen native calls per SET), which
 * the profile of `set` at concurrency 64 showed as a large share of the store's own cost. The
 * rest (promise, key prefix, timeout, reply routing) stays ioredis's.
 */
export class BinaryCommand extends Command {
  override toWritable(_socket: object): string | Buffer {
    const args = this.args as Array<string | Buffer>
    let text = `*${args.length + 1}\r\n$${this.name.length}\r\n${this.name}\r\n`
    const parts: Array<string | Buffer> = []
    let size = 0
    for (const arg of args) {
      if (typeof arg === 'string') {
        text += `$${Buffer.byteLength(arg)}\r\n${arg}\r\n`
      } else {
        text += `$${arg.length}\r\n`
        parts.push(text, arg)
        size += Buffer.byteLength(text) + arg.length
        text = '\r\n'
      }
    }
    if (parts.length === 0) return text
    parts.push(text)
    size += Buffer.byteLength(text)
    const out = Buffer.allocUnsafe(size)
    let offset = 0
    for (const part of parts) {
      offset += typeof part === 'string' ? out.write(part, offset) : part.copy(out, offset)
    }
    return out
  }
}

/**
 * Sends a command with binary arguments on a standalone client, as its `…Buffer` methods would
 * (the reply stays bytes).
 */
export function sendBinary(
  client: Redis,
  name: string,
  args: Array<string | Buffer>,
): Promise<unknown> {
  const { keyPrefix, showFriendlyErrorStack } = client.options
  const command = new BinaryCommand(name, args, {
    replyEncoding: null,
    keyPrefix,
    errorStack: showFriendlyErrorStack ? new Error() : undefined,
  })
  return client.sendCommand(command) as Promise<unknown>
}

/**
 * SET with PX (unless `px` is null) and NX if asked; resolves OK, or null if NX found the key.
 * The direct path keeps the reply as bytes (only null or not matters). `callBuffer` would too,
 * but ioredis auto-pipelining drops its command name; `call` is handled.
 */
export function setCommand(
  connection: Connection,
  full: string,
  value: Buffer,
  px: number | null,
  nx: boolean,
): Promise<unknown> {
  const args: Array<string | Buffer> = [full, value]
  if (px !== null) args.push('PX', `${px}`)
  if (nx) args.push('NX')
  return connection.direct
    ? sendBinary(connection.client as Redis, 'set', args)
    : connection.client.call('set', args)
}
