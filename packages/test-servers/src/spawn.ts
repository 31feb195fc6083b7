import { type ChildProcess, spawn } from 'node:child_process'
import {
  accessSync,
  closeSync,
  constants,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  statSync,
} from 'node:fs'
import { createServer, type Socket } from 'node:net'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { errorMessage } from './handle.js'
import type { ServerEnv } from './types.js'

const HOST = '127.0.0.1'
const STOP_GRACE_MS = 5000

/** What it takes to run one kind of server binary. */
export interface SpawnSpec {
  /** Human name for messages, e.g. `Redis`. */
  name: string
  /** Absolute path of the binary. */
  binary: string
  /** Command line for a server on `port`, with `dir` as its private scratch directory. */
  args: (port: number, dir: string) => string[]
  /** Resolves true once the server on `port` answers. */
  ready: (port: number) => Promise<boolean>
  readyTimeout: number
  /** Signal `stop()` sends first. */
  stopSignal: NodeJS.Signals
}

/** Absolute path of `name` on the env's PATH, or undefined. */
export function findBinary(name: string, env: ServerEnv = process.env): string | undefined {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir) continue
    const candidate = join(dir, name)
    try {
      accessSync(candidate, constants.X_OK)
      if (statSync(candidate).isFile()) return candidate
    } catch {
      // not here; keep looking
    }
  }
  return undefined
}

/** A free loopback port: bind port 0, read what the kernel chose, release it. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on('error', reject)
    server.listen(0, HOST, () => {
      const address = server.address()
      const port = typeof address === 'object' && address ? address.port : 0
      server.close(() => resolve(port))
    })
  })
}

// Every server this process launched, stopped or not: all are killed and cleaned up at exit.
const launched = new Set<SpawnedServer>()
let hooked = false

function killAll(): void {
  for (const server of launched) server.kill()
}

function onSignal(signal: NodeJS.Signals): void {
  killAll()
  // Ours was a `once` listener: if nobody else handles the signal, restore its default effect.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal)
}

function hookProcessExit(): void {
  if (hooked) return
  hooked = true
  process.on('exit', killAll)
  process.once('SIGINT', onSignal)
  process.once('SIGTERM', onSignal)
}

/** A server process this process started on a loopback port; restartable on the same port. */
export class SpawnedServer {
  readonly host = HOST
  readonly port: number
  #spec: SpawnSpec
  #dir: string
  #child: ChildProcess | undefined
  #guard: ChildProcess | undefined
  #exited: Promise<void> = Promise.resolve()

  private constructor(spec: SpawnSpec, port: number) {
    this.#spec = spec
    this.port = port
    this.#dir = mkdtempSync(join(tmpdir(), `cellar-test-${spec.name.toLowerCase()}-`))
    launched.add(this)
  }

  /** Spawns on a free port, retrying on a fresh port if another process took it meanwhile. */
  static async launch(spec: SpawnSpec): Promise<SpawnedServer> {
    let lastError: unknown
    for (let attempt = 0; attempt < 3; attempt++) {
      const server = new SpawnedServer(spec, await freePort())
      try {
        await server.start()
        return server
      } catch (error) {
        lastError = error
        await server.stop()
        server.#removeDir()
        launched.delete(server)
        if (!/in use/i.test(errorMessage(error))) break
      }
    }
    throw lastError
  }

  /** True while the process is alive. */
  get running(): boolean {
    return this.#child !== undefined
  }

  /** Starts the server (no-op if running) and resolves once it answers. */
  async start(): Promise<void> {
    if (this.#child) return
    hookProcessExit()
    const log = join(this.#dir, 'server.log')
    const fd = openSync(log, 'a')
    const child = spawn(this.#spec.binary, this.#spec.args(this.port, this.#dir), {
      stdio: ['ignore', fd, fd],
    })
    closeSync(fd)
    child.unref()
    this.#child = child
    this.#exited = new Promise((resolve) => {
      child.once('exit', () => {
        if (this.#child === child) this.#forget()
        resolve()
      })
      child.once('error', () => {
        if (this.#child === child) this.#forget()
        resolve()
      })
    })
    this.#guard = this.#spawnGuard(child)

    const deadline = Date.now() + this.#spec.readyTimeout
    while (this.#child === child) {
      if (await this.#spec.ready(this.port)) return
      if (Date.now() > deadline) break
      await sleep(50)
    }
    const exited = this.#child !== child
    await this.stop()
    const tail = readTail(log)
    throw new Error(
      `[cellar:test-servers] ${this.#spec.name} (${this.#spec.binary}) on ${HOST}:${this.port} ${exited ? 'exited before answering' : `did not answer within ${this.#spec.readyTimeout} ms`}${tail ? `: ${tail}` : ''}`,
    )
  }

  /** Stops the server (its stop signal, then SIGKILL after a grace period); resolves once it exited. */
  async stop(): Promise<void> {
    const child = this.#child
    if (!child) return
    this.#guard?.kill('SIGKILL')
    child.kill(this.#spec.stopSignal)
    const timer = setTimeout(() => child.kill('SIGKILL'), STOP_GRACE_MS)
    await this.#exited
    clearTimeout(timer)
  }

  /** Synchronous last-resort kill, for process exit. */
  kill(): void {
    this.#guard?.kill('SIGKILL')
    this.#child?.kill('SIGKILL')
    this.#removeDir()
  }

  #forget(): void {
    this.#child = undefined
    this.#guard = undefined
  }

  #removeDir(): void {
    rmSync(this.#dir, { recursive: true, force: true })
  }

  /**
   * A tiny shell that kills the server when our end of its stdin closes — which the kernel does
   * even if this process dies from SIGKILL, where no exit handler runs.
   */
  #spawnGuard(child: ChildProcess): ChildProcess | undefined {
    if (child.pid === undefined) return undefined
    const script = 'read _; kill -9 "$1" 2>/dev/null; rm -rf "$2"'
    const guard = spawn('sh', ['-c', script, 'guard', String(child.pid), this.#dir], {
      stdio: ['pipe', 'ignore', 'ignore'],
    })
    guard.on('error', () => {})
    guard.unref()
    ;(guard.stdin as Socket | null)?.unref()
    return guard
  }
}

function readTail(file: string): string {
  try {
    return readFileSync(file, 'utf8').trim().split('\n').slice(-3).join(' | ')
  } catch {
    return ''
  }
}
