import { spawn } from 'node:child_process'
import { dirname } from 'node:path'
import type { LimiterProcesses, LimiterSpec } from './limiter-types.js'

/**
 * The child's program: builds a limiter from the module's `createLimiter(spec)`, waits for the
 * shared start time, fires its consumes at once, prints how many were allowed, and exits.
 */
const CHILD = `
import { pathToFileURL } from 'node:url'
const [modulePath, specJson, key, countText, startText] = process.argv.slice(1)
const adapter = await import(pathToFileURL(modulePath).href)
const made = await adapter.createLimiter(JSON.parse(specJson))
const wait = Number(startText) - Date.now()
if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait))
const results = await Promise.all(Array.from({ length: Number(countText) }, () => made.limiter.consume(key)))
await made.close()
process.stdout.write(JSON.stringify({ allowed: results.filter((r) => r.allowed).length }) + '\\n')
`

/** Runs `children` processes, each firing `each` consumes of `key`; resolves their allowed counts. */
export async function consumeFromProcesses(
  processes: LimiterProcesses,
  spec: LimiterSpec,
  key: string,
  children: number,
  each: number,
): Promise<number[]> {
  // Children start together, well after every one of them has loaded (a loaded machine is slow).
  const start = Date.now() + 4000
  const runs = Array.from({ length: children }, () => runChild(processes, spec, key, each, start))
  return Promise.all(runs)
}

function runChild(
  processes: LimiterProcesses,
  spec: LimiterSpec,
  key: string,
  each: number,
  start: number,
): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawn(
      process.execPath,
      [
        ...(processes.execArgv ?? []),
        '--input-type=module',
        '--eval',
        CHILD,
        processes.module,
        JSON.stringify(spec),
        key,
        String(each),
        String(start),
      ],
      {
        cwd: dirname(processes.module),
        env: { ...process.env, ...processes.env },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    )
    let stdout = ''
    let stderr = ''
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      stdout += chunk
    })
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk
    })
    child.on('error', reject)
    child.on('close', (code) => {
      const line = stdout.trim().split('\n').at(-1) ?? ''
      if (code !== 0 || !line.startsWith('{')) {
        reject(
          new Error(`[cellar:conformance] limiter child exited ${code}: ${stderr.slice(-2000)}`),
        )
        return
      }
      resolve((JSON.parse(line) as { allowed: number }).allowed)
    })
  })
}
