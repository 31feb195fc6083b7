import { randomBytes } from 'node:crypto'

/** A random hex token, `bytes` long before encoding. */
export function randomToken(bytes = 6): string {
  return randomBytes(bytes).toString('hex')
}

/** A key prefix no other test run shares: `cellar-test:<name>:<random>:`. */
export function uniquePrefix(name: string): string {
  return `cellar-test:${name}:${randomToken()}:`
}
