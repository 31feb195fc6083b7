import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { defineConfig } from 'vitest/config'

const root = fileURLToPath(new URL('.', import.meta.url))
const packagesDir = join(root, 'packages')

// Tests import sibling packages from source, so a test run never waits on (or races) a build.
const alias = readdirSync(packagesDir)
  .filter((dir) => existsSync(join(packagesDir, dir, 'src/index.ts')))
  .map((dir) => ({
    find: new RegExp(`^@cellar/${dir}$`),
    replacement: join(packagesDir, dir, 'src/index.ts'),
  }))

export const sharedConfig = defineConfig({
  resolve: { alias },
  test: {
    testTimeout: 30_000,
    hookTimeout: 60_000,
  },
})
