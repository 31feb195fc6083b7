import { randomBytes } from 'node:crypto'
import { describeLock, describeStore } from '@cellar/conformance'
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
const sibling = (store: unknown) =>
  new FileStore({ directory, prefix: (store as FileStore).prefix, pruneInterval: false })

describeStore(runner, factory, { name: 'FileStore', sibling })
describeLock(runner, factory, { name: 'FileStore locks', sibling })

afterAll(removeTempDirs)
