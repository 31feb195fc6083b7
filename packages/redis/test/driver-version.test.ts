import { createRequire } from 'node:module'
import { Redis } from 'ioredis'
import { expect, test } from 'vitest'

const require = createRequire(import.meta.url)

test('each vitest project runs on the ioredis major it names', () => {
  const name = process.env.CELLAR_IOREDIS ?? 'ioredis'
  const { version } = require(`${name}/package.json`) as { version: string }
  const major = name === 'ioredis5' ? '5' : '6'
  expect(version.split('.')[0]).toBe(major)
  // The module the tests and the store import is that copy: its Redis is the one resolved.
  const entry = require.resolve(name)
  expect(require.cache[entry]?.exports.Redis ?? require(entry).Redis).toBe(Redis)
})
