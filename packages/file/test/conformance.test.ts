import { randomBytes } from 'node:crypto'
import { renameSync, rmSync, writeFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { describeExpiryBoundary, describeLock, describeStore } from '@cellar/conformance'
import { afterAll, afterEach, beforeAll, beforeEach, describe, test } from 'vitest'
import { FileStore } from '../src/index.js'
import { removeTempDirs, tempDir } from './helpers.js'

// One directory for the whole file, as an application would have; each test gets its own prefix.
const directory = tempDir('conformance')
const runner = { describe, test, beforeEach, afterEach, beforeAll, afterAll }
const factory = () =>
  new FileStore({
    directory,
    prefix: `cellar-test:file:${randomBytes(6).toString('hex')}:`,
    pruneInterval: false,
  })
// A second FileStore instance over the same directory and prefix: what another process sees.
const sibling = (store: FileStore) =>
  new FileStore({ directory, prefix: store.prefix, pruneInterval: false })

// Faults: the directory of the fault stores is swapped for a plain file (ENOTDIR on every
// path under it, root or not), then put back.
const faultDir = tempDir('conformance-faults')
const faults = {
  factory: () =>
    new FileStore({
      directory: faultDir,
      prefix: `cellar-test:file-faults:${randomBytes(6).toString('hex')}:`,
      pruneInterval: false,
    }),
  stop: () => {
    renameSync(faultDir, `${faultDir}.away`)
    writeFileSync(faultDir, 'not a directory')
  },
  start: () => {
    rmSync(faultDir)
    renameSync(`${faultDir}.away`, faultDir)
  },
}
// A child process builds a FileStore from this module, closes its gateway and must exit.
const exit = {
  module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
  execArgv: ['--import', 'tsx'],
  env: { CELLAR_EXIT_DIR: tempDir('conformance-exit') },
}

describeStore(runner, factory, { name: 'FileStore', sibling, faults, exit })
describeLock(runner, factory, { name: 'FileStore locks', sibling })
// The expiry boundary with a clock the test moves (from 0 and from Date.now()).
describeExpiryBoundary(
  runner,
  (now) =>
    new FileStore({
      directory,
      prefix: `cellar-test:file-clock:${randomBytes(6).toString('hex')}:`,
      pruneInterval: false,
      now,
    }),
  { name: 'FileStore (injected clock)' },
)

afterAll(removeTempDirs)
