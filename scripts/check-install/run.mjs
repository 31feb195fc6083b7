// Runs one command of a check with a time limit and keeps what it printed, so a failure can be
// reported with its output and every step with its duration.
import { spawn } from 'node:child_process'

/**
 * Runs `command args` in `cwd`; resolves { code, output, seconds, timedOut }, never rejects.
 * A command still running after `timeout` ms is killed (with its process group) and reported.
 */
export function run(command, args, { cwd, env, timeout = 300_000 } = {}) {
  const started = performance.now()
  return new Promise((resolve) => {
    const child = spawn(command, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      detached: true,
    })
    let output = ''
    const keep = (chunk) => {
      output += chunk
    }
    child.stdout.setEncoding('utf8').on('data', keep)
    child.stderr.setEncoding('utf8').on('data', keep)
    let timedOut = false
    const timer = setTimeout(() => {
      timedOut = true
      try {
        process.kill(-child.pid, 'SIGKILL')
      } catch {
        child.kill('SIGKILL')
      }
    }, timeout)
    const done = (code) => {
      clearTimeout(timer)
      const seconds = (performance.now() - started) / 1000
      resolve({ code: timedOut ? null : code, output, seconds, timedOut })
    }
    child.on('error', (error) => {
      output += String(error)
      done(-1)
    })
    child.on('close', (code) => done(code))
  })
}

/** The last `count` lines of a command's output, indented for the report. */
export function tail(output, count = 25) {
  const lines = output.trimEnd().split('\n')
  const shown = lines.slice(-count)
  const cut = lines.length > count ? [`    … ${lines.length - count} earlier lines`] : []
  return [...cut, ...shown.map((line) => `    ${line}`)].join('\n')
}
