import type { Socket } from 'node:net'
import { backendError, InvalidArgumentError } from '@cellar/core'
import type { Client, Response, Server } from 'memjs'

/** Binary-protocol opcodes the store sends (memcached's protocol_binary.h). */
export const Op = {
  GET: 0x00,
  SET: 0x01,
  ADD: 0x02,
  DELETE: 0x04,
  INCR: 0x05,
  DECR: 0x06,
  NOOP: 0x0a,
  GETKQ: 0x0d,
} as const

/** Binary-protocol response statuses. */
export const Status = {
  OK: 0x00,
  NOT_FOUND: 0x01,
  EXISTS: 0x02,
  TOO_LARGE: 0x03,
  NOT_STORED: 0x05,
  NON_NUMERIC: 0x06,
} as const

const OP_NAMES: Record<number, string> = {
  [Op.GET]: 'get',
  [Op.SET]: 'set',
  [Op.ADD]: 'add',
  [Op.DELETE]: 'delete',
  [Op.INCR]: 'incr',
  [Op.DECR]: 'decr',
  [Op.GETKQ]: 'get (multi)',
}

/** The memjs internals the wire relies on, each guarded by a test (see the README). */
type WithSocket = { _socket?: Socket }

const CLOSED = 'the store was closed before the server answered'

/** memjs retries a failed request this many times in total; 1 means a single attempt. */
export const ONCE = 1

interface Watch {
  readonly expires: number
  readonly key: string
  readonly fail: (error: Error) => void
  done: boolean
}

// memjs keeps a handler marked `quiet` registered until a response without a body arrives; its
// own stats() relies on it. Undeclared in @types/memjs.
type QuietHandler = ((response: Response) => void) & { quiet?: boolean }

const NO_EXTRAS = Buffer.alloc(0)

/** Extras of SET/ADD: 32-bit flags, then the expiration. */
export function storeExtras(flags: number, exptime: number): Buffer {
  const extras = Buffer.allocUnsafe(8)
  extras.writeUInt32BE(flags, 0)
  extras.writeUInt32BE(exptime, 4)
  return extras
}

/**
 * Extras of INCR/DECR: 64-bit delta, 64-bit initial value, expiration. An expiration of
 * 0xffffffff means "fail on a missing key" instead of creating it with `initial`.
 */
export function counterExtras(delta: number, initial: number, exptime: number): Buffer {
  const extras = Buffer.allocUnsafe(20)
  extras.writeBigUInt64BE(BigInt(delta), 0)
  extras.writeBigUInt64BE(BigInt(initial), 8)
  extras.writeUInt32BE(exptime, 16)
  return extras
}

/** Builds one request packet; `key` is already a valid memcached key (printable ASCII). */
function packet(
  opcode: number,
  key: string,
  extras: Buffer,
  value: Uint8Array | undefined,
  opaque: number,
  cas: Buffer | undefined,
): Buffer {
  const valueLength = value === undefined ? 0 : value.byteLength
  const body = extras.length + key.length + valueLength
  const buffer = Buffer.allocUnsafe(24 + body)
  buffer[0] = 0x80
  buffer[1] = opcode
  buffer.writeUInt16BE(key.length, 2)
  buffer[4] = extras.length
  buffer[5] = 0
  buffer.writeUInt16BE(0, 6)
  buffer.writeUInt32BE(body, 8)
  buffer.writeUInt32BE(opaque, 12)
  if (cas === undefined) buffer.fill(0, 16, 24)
  else cas.copy(buffer, 16, 0, 8)
  extras.copy(buffer, 24)
  buffer.write(key, 24 + extras.length, 'latin1')
  if (value !== undefined) buffer.set(value, 24 + extras.length + key.length)
  return buffer
}

/** Wraps a driver failure in the typed error every public method throws (core's helper). */
export function unavailable(operation: string, key: string | undefined, cause: unknown): Error {
  return backendError(cause, { source: 'memcached', operation, key })
}

/** The error for a status the operation does not expect (out of memory, too large...). */
export function unexpected(response: Response, key: string | undefined): Error {
  const { opcode, status } = response.header
  const what = OP_NAMES[opcode] ?? `opcode 0x${opcode.toString(16)}`
  const detail = response.val.toString('latin1').slice(0, 120)
  if (status === Status.TOO_LARGE) {
    return new InvalidArgumentError(
      `[cellar:memcached] the server refused the value${key === undefined ? '' : ` for key "${key.slice(0, 64)}"`} as too large (${detail}); lower maxValueSize to the server's item size limit (-I)`,
      { key, code: 'E_VALUE_TOO_LARGE' },
    )
  }
  return unavailable(what, key, new Error(`status 0x${status.toString(16)} ${detail}`))
}

/**
 * Raw binary-protocol requests over a memjs client: memjs keeps the sockets, picks the server
 * by key, times requests out and retries; this layer adds what its API lacks (CAS, 64-bit
 * counters, flags, pipelined multi-get) and a watchdog so no request can hang past `deadline`.
 */
export class Wire {
  readonly client: Client
  readonly #deadlineMs: number
  readonly #cork: boolean
  readonly #watches = new Set<Watch>()
  readonly #corked: Socket[] = []
  #timer: NodeJS.Timeout | undefined
  #closed = false

  /** `cork`: batch each tick's requests into one socket write (memjs's undeclared `_socket`). */
  constructor(client: Client, deadlineMs: number, cork = true) {
    this.client = client
    this.#deadlineMs = deadlineMs
    this.#cork = cork
  }

  /**
   * Sends one request to the server owning `key` and resolves its response, whatever its
   * status; rejects with `E_BACKEND_UNAVAILABLE` when the server can't be reached.
   */
  send(
    opcode: number,
    key: string,
    about: string | undefined,
    extras: Buffer = NO_EXTRAS,
    value?: Uint8Array,
    cas?: Buffer,
    attempts?: number,
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      const what = OP_NAMES[opcode] ?? 'request'
      // Work still running when the store closed (a CAS retry) must not reopen a socket.
      if (this.#closed) return reject(unavailable(what, about, new Error(CLOSED)))
      const client = this.client
      this.#corkSockets()
      client.incrSeq()
      const seq = client.seq
      const request = packet(opcode, key, extras, value, seq, cas)
      const watch = this.#watch(key, (error) => reject(unavailable(what, about, error)))
      client.perform(
        key,
        request,
        seq,
        (error: unknown, response: Response) => {
          if (!this.#settle(watch)) return
          if (error) reject(unavailable(what, about, error))
          else resolve(response)
        },
        attempts,
      )
    })
  }

  /**
   * Fetches many keys in one round trip per server (GETKQ for each, then NOOP); resolves the
   * responses of the hits by memcached key.
   */
  async getMulti(keys: readonly string[]): Promise<Map<string, Response>> {
    const groups = new Map<Server, string[]>()
    for (const key of keys) {
      const server = this.client.server(key)
      if (!server) throw unavailable('get (multi)', undefined, new Error('No servers available'))
      const group = groups.get(server)
      if (group === undefined) groups.set(server, [key])
      else group.push(key)
    }
    const hits = new Map<string, Response>()
    await Promise.all([...groups].map(([server, group]) => this.#batch(server, group, hits)))
    return hits
  }

  /** Stops the watchdog and fails every request still waiting for an answer. */
  close(): void {
    this.#closed = true
    clearInterval(this.#timer)
    this.#timer = undefined
    const error = new Error(CLOSED)
    for (const watch of this.#watches) {
      this.#settle(watch)
      watch.fail(error)
    }
  }

  #batch(server: Server, keys: readonly string[], hits: Map<string, Response>): Promise<void> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(unavailable('get (multi)', undefined, new Error(CLOSED)))
      const client = this.client
      this.#corkSockets()
      client.incrSeq()
      const seq = client.seq
      const parts = keys.map((key) => packet(Op.GETKQ, key, NO_EXTRAS, undefined, seq, undefined))
      parts.push(packet(Op.NOOP, '', NO_EXTRAS, undefined, seq, undefined))
      const fail = (error: unknown) => reject(unavailable('get (multi)', undefined, error))
      const watch = this.#watch(keys[0]!, fail)
      // memjs keeps a "quiet" handler registered until a response without a body (the NOOP).
      const onResponse: QuietHandler = (response) => {
        if (response.header.opcode === Op.NOOP) {
          if (this.#settle(watch)) resolve()
        } else if (response.header.status === Status.OK) {
          hits.set(response.key.toString('latin1'), response)
        }
      }
      onResponse.quiet = true
      server.onResponse(seq, onResponse)
      server.onError(seq, (error) => {
        if (this.#settle(watch)) fail(error)
      })
      // One write, so memjs pairs it with exactly one response deadline.
      server.write(Buffer.concat(parts))
    })
  }

  // memjs writes every request to its socket at once, one system call each. Corking the open
  // sockets until the end of the tick sends all requests made meanwhile in one write.
  #corkSockets(): void {
    if (!this.#cork || this.#corked.length > 0) return
    for (const server of this.client.servers) {
      const socket = (server as unknown as WithSocket)._socket
      if (socket !== undefined && !socket.destroyed) {
        socket.cork()
        this.#corked.push(socket)
      }
    }
    if (this.#corked.length > 0) process.nextTick(() => this.#uncork())
  }

  #uncork(): void {
    for (const socket of this.#corked.splice(0)) socket.uncork()
  }

  #watch(key: string, fail: (error: Error) => void): Watch {
    const watch: Watch = { expires: Date.now() + this.#deadlineMs, key, fail, done: false }
    this.#watches.add(watch)
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => this.#sweep(), Math.max(50, this.#deadlineMs / 4))
      this.#timer.unref()
    }
    return watch
  }

  #settle(watch: Watch): boolean {
    if (watch.done) return false
    watch.done = true
    this.#watches.delete(watch)
    return true
  }

  // memjs loses a request whose socket closes cleanly before it answers (no 'error' event);
  // the watchdog fails it and resets that server's socket so later requests start clean.
  #sweep(): void {
    if (this.#watches.size === 0) {
      clearInterval(this.#timer)
      this.#timer = undefined
      return
    }
    const now = Date.now()
    const error = new Error(`no answer within ${this.#deadlineMs}ms`)
    for (const watch of this.#watches) {
      if (watch.expires > now) continue
      this.#settle(watch)
      watch.fail(error)
      this.client.server(watch.key)?.error(error)
    }
  }
}
