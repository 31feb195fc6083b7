import { fileURLToPath } from 'node:url'
import { NullStore } from '@cellar/core'
import { afterEach, beforeEach, describe, test } from 'vitest'
import { describeConformance, registerSuite, STORE_GROUPS } from '../src/index.js'

const runner = { describe, test, beforeEach, afterEach }

// A child process builds a NullStore from this module, closes its gateway and must exit.
const exit = {
  module: fileURLToPath(new URL('./exit-child.ts', import.meta.url)),
  execArgv: ['--import', 'tsx'],
}

describeConformance(runner, () => new NullStore(), { exit })

// A namespace as the factory's store: every group but the root-closing one applies.
registerSuite(
  runner,
  () => new NullStore().namespace('tenant'),
  { name: 'null (namespace)' },
  STORE_GROUPS.filter((group) => group.title !== 'closing the root store'),
  'store conformance',
)
