import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { dirname, isAbsolute } from 'node:path'
import type { ExitCheck, GroupDefinition } from '../types.js'

/**
 * The child's program: `@cellar/core` is resolved from the module's folder (the copy the
 * adapter uses). It writes, reads back, deletes, closes the gateway, says "closed", and then has
 * nothing left to do: the event loop must empty by itself.
 */
const CHILD = `
import { pathToFileURL } from 'node:url'
const modulePath = process.argv[1]
const { CacheGateway } = await import('@cellar/core')
const adapter = await import(pathToFileURL(modulePath).href)
if (typeof adapter.createStore !== 'function') {
  console.error('[cellar:conformance] ' + modulePath + ' must export createStore()')
  process.exit(3)
}
const store = await adapter.createStore()
const gateway = new CacheGateway(store, { prefix: 'app' })
const key = 'exit-check-' + process.pid
await gateway.setValue(key, { written: true }, 60000)
await gateway.getValue(key)
await gateway.delete(key)
await gateway.close()
process.stdout.write('closed\\n')
`

interface ChildResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stdout: string
  readonly stderr: string
  readonly hung: boolean
}

/** Runs the child; kills it once `deadline` ms pass without an exit (reported as `hung`). */
function runChild(check: ExitCheck, deadline: number): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [...(check.execArgv ?? []), '--input-type=module', '--eval', CHILD, check.module],
      {
        cwd: dirname(check.module),
        env: { ...process.env, ...check.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    let hung = false
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    const timer = setTimeout(() => {
      hung = true
      child.kill('SIGKILL')
    }, deadline)
    child.on('error', (error) => {
      clearTimeout(timer)
      reject(error)
    })
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, hung })
    })
  })
}

function tail(text: string): string {
  const trimmed = text.trim()
  if (trimmed === '') return '(nothing)'
  return trimmed.length > 2_000 ? `…${trimmed.slice(-2_000)}` : trimmed
}

/**
 * A process that closes its gateway exits on its own (with `options.exit`): nothing the store
 * created — a socket, a pool, a timer, a file handle — keeps the event loop alive after close.
 */
export const exitGroup: GroupDefinition = {
  title: 'process exit',
  skipReason: (settings) =>
    settings.exit === undefined
      ? 'no options.exit given (a module the child process builds the store from)'
      : undefined,
  define({ bare, settings }) {
    const check = settings.exit as ExitCheck
    // The runner's timeout bounds the test; the deadline below fails first, with the reason.
    const deadline = Math.max(5_000, settings.timeout - 5_000)

    bare(
      "a process that closes its gateway (built with prefix 'app') exits on its own",
      async () => {
        assert.ok(
          isAbsolute(check.module),
          `options.exit.module must be an absolute path, got ${JSON.stringify(check.module)}`,
        )
        const result = await runChild(check, deadline)
        const closed = result.stdout.includes('closed')
        if (result.hung) {
          assert.fail(
            closed
              ? `the child closed its gateway but was still running ${deadline} ms later; expected it to exit on its own (a socket, pool, timer or file handle the store created is still open). Its stderr: ${tail(result.stderr)}`
              : `the child did not get as far as closing its gateway within ${deadline} ms; expected it to write, close and exit. Its stderr: ${tail(result.stderr)}`,
          )
        }
        assert.ok(
          result.code === 0 && closed,
          `expected the child to write, close its gateway and exit with code 0; it exited with ${result.signal ?? `code ${result.code}`}${closed ? ' after closing' : ' before closing'}. Its stderr: ${tail(result.stderr)}`,
        )
      },
      { timeout: deadline + 10_000 },
    )
  },
}
