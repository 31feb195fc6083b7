import { connect, createServer, type Server, type Socket } from 'node:net'
import { freePort } from '@cellar/test-servers'

/**
 * A TCP proxy on loopback in front of a database server, for fault tests: `stop()` closes the
 * listener and cuts every open connection (as a server that went away), `start()` listens
 * again on the same port.
 */
export class TcpProxy {
  readonly port: number
  readonly #target: { host: string; port: number }
  readonly #sockets = new Set<Socket>()
  #server: Server | undefined

  private constructor(port: number, target: { host: string; port: number }) {
    this.port = port
    this.#target = target
  }

  /** A started proxy on a free port that forwards to `target`. */
  static async open(target: { host: string; port: number }): Promise<TcpProxy> {
    const proxy = new TcpProxy(await freePort(), target)
    await proxy.start()
    return proxy
  }

  /** Listens (again) on `port`; resolves once it accepts connections. */
  async start(): Promise<void> {
    if (this.#server !== undefined) return
    const server = createServer((client) => this.#forward(client))
    this.#server = server
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject)
      server.listen(this.port, '127.0.0.1', () => resolve())
    })
  }

  /** Stops listening and destroys every connection in both directions. */
  async stop(): Promise<void> {
    const server = this.#server
    if (server === undefined) return
    this.#server = undefined
    for (const socket of this.#sockets) socket.destroy()
    this.#sockets.clear()
    await new Promise<void>((resolve) => server.close(() => resolve()))
  }

  #forward(client: Socket): void {
    const upstream = connect(this.#target.port, this.#target.host)
    for (const [from, to] of [
      [client, upstream],
      [upstream, client],
    ] as const) {
      this.#sockets.add(from)
      from.on('error', () => to.destroy())
      from.on('close', () => {
        this.#sockets.delete(from)
        to.destroy()
      })
      from.pipe(to)
    }
  }
}
