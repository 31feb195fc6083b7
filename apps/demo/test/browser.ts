import { existsSync } from 'node:fs'
import { type Browser, chromium } from 'playwright-core'

/** Debian's chromium; the tests never download a browser. */
export const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'

/**
 * True when the system chromium exists; otherwise prints why the browser test is skipped, and
 * under CI=true throws instead (`.ci/run` installs the Debian package).
 */
export function haveChromium(): boolean {
  if (existsSync(CHROMIUM)) return true
  const line = `[demo] ${CHROMIUM} not found: apt-get install -y chromium (or set CHROMIUM_PATH)`
  if (process.env.CI === 'true') throw new Error(line)
  console.warn(`${line}; skipping the browser test`)
  return false
}

/** Headless chromium from the system binary. */
export function launchChromium(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    // Root in a container: chromium's sandbox needs user namespaces it does not get there.
    args: ['--no-sandbox', '--disable-dev-shm-usage'],
  })
}
