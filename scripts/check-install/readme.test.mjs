// What the install check reads from a README, on small made-up READMEs (node --test).
import assert from 'node:assert/strict'
import { test } from 'node:test'
import {
  alternativeInstalls,
  argName,
  cjsSource,
  esmSource,
  firstSample,
  installArgs,
  installLines,
} from './readme.mjs'

const FENCE = '```'
const readme = [
  '# @cellar/example', // 1
  '', // 2
  `${FENCE}sh`, // 3
  'npm install @cellar/core @cellar/example zod@4   # core, this store, a validator', // 4
  'npm install -D @types/memjs # types', // 5
  FENCE, // 6
  '', // 7
  `${FENCE}ts`, // 8
  "import { CacheGateway } from '@cellar/core'", // 9
  'import {', // 10
  '  ExampleStore,', // 11
  "} from '@cellar/example'", // 12
  "import { readFile } from 'node:fs/promises'", // 13
  "import { helper } from './helper.js'", // 14
  '', // 15
  '// a comment before the code', // 16
  'const cache = new CacheGateway(new ExampleStore())', // 17
  "await cache.setValue('k', 1)", // 18
  FENCE, // 19
  '', // 20
  `${FENCE}ts`, // 21
  "console.log('second sample')", // 22
  FENCE, // 23
].join('\n')

test('install lines come from the first sh block, comments stripped, with their lines', () => {
  assert.deepEqual(installLines(readme), [
    { line: 4, command: 'npm install @cellar/core @cellar/example zod@4' },
    { line: 5, command: 'npm install -D @types/memjs' },
  ])
  assert.deepEqual(installArgs('npm install -D @types/memjs'), ['-D', '@types/memjs'])
})

test('argName reads scoped and versioned names and skips flags', () => {
  assert.equal(argName('@cellar/core'), '@cellar/core')
  assert.equal(argName('@cellar/core@0.1.0'), '@cellar/core')
  assert.equal(argName('zod@4'), 'zod')
  assert.equal(argName('--save-dev'), undefined)
})

test('the first ts sample: where it starts, what it imports, where the code begins', () => {
  const sample = firstSample(readme)
  assert.equal(sample.start, 9)
  assert.deepEqual(sample.imports, ['@cellar/core', '@cellar/example', './helper.js'])
  assert.deepEqual(sample.names['@cellar/example'], ['ExampleStore'])
  assert.equal(sample.lines[sample.bodyLine], 'const cache = new CacheGateway(new ExampleStore())')
})

test('the CommonJS form keeps every line where it was and wraps the code in a function', () => {
  const sample = firstSample(readme)
  const esm = esmSource(sample).split('\n')
  const cjs = cjsSource(sample).split('\n')
  for (const [index, line] of sample.lines.entries()) {
    assert.equal(esm[index], line)
    if (index !== sample.bodyLine) assert.equal(cjs[index], line)
  }
  assert.match(cjs[sample.bodyLine], /^async function main\(\): Promise<void> \{ const cache/)
  assert.ok(cjs.includes('main().catch((error: unknown) => {'))
})

test('a README without a sample or an install line reads as such', () => {
  assert.equal(firstSample('# nothing here\n'), undefined)
  assert.deepEqual(installLines('# nothing here\n'), [])
})

test('a later sh block starting with "# or" is another way to install; others are not', () => {
  const text = [
    readme, // lines 1-23
    '', // 24
    `${FENCE}sh`, // 25
    '# or, to stay on ioredis 5', // 26
    'npm install @cellar/core @cellar/example ioredis@5   # the older major', // 27
    FENCE, // 28
    `${FENCE}sh`, // 29
    'npm install something-else', // 30: a later block without the marker
    FENCE, // 31
    `${FENCE}sh`, // 32
    '# or run it yourself', // 33: marked, but no install line
    'pnpm demo', // 34
    FENCE, // 35
  ].join('\n')
  assert.deepEqual(alternativeInstalls(text), [
    {
      line: 26,
      note: 'or, to stay on ioredis 5',
      lines: [{ line: 27, command: 'npm install @cellar/core @cellar/example ioredis@5' }],
    },
  ])
  // The first block stays the README's own install lines.
  assert.deepEqual(installLines(text), installLines(readme))
  assert.deepEqual(alternativeInstalls(readme), [])
})

test('tsc errors in another package’s own declarations are told apart from ours', async () => {
  const { splitErrors, foreignPackages } = await import('./typescript.mjs')
  const output = [
    "node_modules/ioredis/built/errors/WatchError.d.ts(1,28): error TS7016: Could not find a declaration file for module 'redis-errors'.",
    '  Try `npm i --save-dev @types/redis-errors` if it exists',
    "node_modules/@scope/pkg/index.d.ts(3,1): error TS2304: Cannot find name 'X'.",
  ].join('\n')
  const only = splitErrors(output)
  assert.equal(only.ours.length, 0)
  assert.equal(only.foreign.length, 3)
  assert.equal(foreignPackages(only.foreign), 'ioredis TS7016, @scope/pkg TS2304')

  const mixed = splitErrors(
    [
      "sample.mts(2,7): error TS2322: Type 'string' is not assignable to type 'number'.",
      "node_modules/@cellar/redis/dist/index.d.ts(9,3): error TS2304: Cannot find name 'Y'.",
      output,
    ].join('\n'),
  )
  assert.equal(mixed.ours.length, 2)
  assert.equal(mixed.foreign.length, 3)
  assert.deepEqual(splitErrors('tsc crashed').ours, ['tsc crashed'])
})
