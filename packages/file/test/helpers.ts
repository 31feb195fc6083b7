import { createHash } from 'node:crypto'
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export const bytes = (text: string) => new TextEncoder().encode(text)
export const text = (value: Uint8Array | undefined) =>
  value === undefined ? undefined : new TextDecoder().decode(value)

const made: string[] = []

/** A fresh empty directory under the OS temp dir, removed by `removeTempDirs`. */
export function tempDir(label = 'file'): string {
  const dir = mkdtempSync(join(tmpdir(), `cellar-${label}-`))
  made.push(dir)
  return dir
}

export function removeTempDirs(): void {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true })
}

/** Where the store keeps `fullKey` (prefix included) with the default fan-out. */
export function entryPath(directory: string, fullKey: string, suffix = ''): string {
  const hex = createHash('sha256').update(fullKey).digest('hex')
  return join(directory, hex.slice(0, 2), hex + suffix)
}

/** Every file (not directory) under `directory`, as paths relative to it. */
export function listFiles(directory: string): string[] {
  const out: string[] = []
  const walk = (dir: string, rel: string) => {
    let names: string[]
    try {
      names = readdirSync(dir)
    } catch {
      return
    }
    for (const name of names) {
      const path = join(dir, name)
      if (statSync(path).isDirectory()) walk(path, join(rel, name))
      else out.push(join(rel, name))
    }
  }
  walk(directory, '')
  return out.sort()
}

/** A clock moved by hand, starting at a realistic epoch value. */
export function manualClock(start = 1_750_000_000_000) {
  let now = start
  return {
    now: () => now,
    advance: (ms: number) => {
      now += ms
    },
  }
}
