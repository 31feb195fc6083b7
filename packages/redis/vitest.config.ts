import { fileURLToPath } from 'node:url'
import { defineConfig, mergeConfig } from 'vitest/config'
import { sharedConfig } from '../../vitest.shared'

// Every test file runs twice: on ioredis 6 (the devDependency) and on the oldest ioredis 5 of
// the peer range (the `ioredis5` alias), so both majors are held to the same tests.
const ioredis5 = fileURLToPath(new URL('./node_modules/ioredis5/built/index.js', import.meta.url))

export default mergeConfig(
  sharedConfig,
  defineConfig({
    test: {
      projects: [
        { extends: true, test: { name: 'ioredis 6' } },
        {
          extends: true,
          resolve: { alias: [{ find: /^ioredis$/, replacement: ioredis5 }] },
          test: { name: 'ioredis 5', env: { CELLAR_IOREDIS: 'ioredis5' } },
        },
      ],
    },
  }),
)
