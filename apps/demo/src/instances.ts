import { type ChildProcess, spawn } from 'node:child_process'
import { once } from 'node:events'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

const appDir = fileURLToPath(new URL('..', import.meta.url))
const MAIN = fileURLToPath(new URL('main.ts', import.meta.url))

/** A demo started as its own process (`node --import tsx src/main.ts`). */
export interface Instance {
  readonly name: string
  readonly url: string
  readonly process: ChildProcess
  /** Sends SIGTERM and resolves once the process has exited. */
  stop(): Promise<void>
}

/**
 * Starts the demo in a child process with `env` and resolves once it prints the URL it listens
 * on; its output is forwarded line by line, prefixed with `[name]`, to `log`. Rejects if the
 * process exits first (with its last lines).
 */
export function startInstance(
  name: string,
  env: NodeJS.ProcessEnv,
  log: (line: string) => void = (line) => console.log(line),
): Promise<Instance> {
  const child = spawn(process.execPath, ['--import', 'tsx', MAIN], {
    cwd: appDir,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  const tail: string[] = []
  const exited = once(child, 'exit')
  return new Promise<Instance>((resolve, reject) => {
    let url: string | undefined
    const onLine = (line: string) => {
      tail.push(line)
      if (tail.length > 20) tail.shift()
      log(`[${name}] ${line}`)
      const listening = /listening on (http:\/\/\S+)/.exec(line)
      if (url === undefined && listening !== null) {
        url = listening[1]!
        resolve({
          name,
          url,
          process: child,
          async stop() {
            if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
            await exited
          },
        })
      }
    }
    createInterface({ input: child.stdout! }).on('line', onLine)
    createInterface({ input: child.stderr! }).on('line', onLine)
    exited.then(([code, signal]) => {
      if (url === undefined) {
        reject(
          new Error(
            `[demo] instance ${name} exited (${signal ?? code}) before listening:\n${tail.join('\n')}`,
          ),
        )
      }
    })
  })
}
