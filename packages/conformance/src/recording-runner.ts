import { AsyncLocalStorage } from 'node:async_hooks'
import type { TestFunction, TestRunner } from './types.js'

/** A test as registered with a recording runner. */
export interface RecordedTest {
  /** Titles of the enclosing describes, outermost first. */
  readonly path: readonly string[]
  readonly title: string
  readonly fn: TestFunction
  /** Registered through `test.skip` (a group or test that does not apply). */
  readonly skipped: boolean
}

/** Outcome of running one recorded test. */
export interface RecordedResult {
  readonly test: RecordedTest
  /** `'skipped'` tests are not run. */
  readonly status: 'passed' | 'failed' | 'skipped'
  readonly error?: unknown
}

/** A `TestRunner` that collects tests instead of running them; see `createRecordingRunner`. */
export interface RecordingRunner extends TestRunner {
  /** Resolves every test registered so far, once async describe callbacks have finished. */
  collect(): Promise<RecordedTest[]>
  /** Runs the collected tests one by one (skipped ones are reported, not run). */
  run(filter?: (test: RecordedTest) => boolean): Promise<RecordedResult[]>
}

/**
 * A runner whose `describe` runs its callback at once and whose `test` only records: use it to
 * list the suite's behaviours, or to prove that a broken store fails a group.
 */
export function createRecordingRunner(): RecordingRunner {
  const tests: RecordedTest[] = []
  const pending: Promise<unknown>[] = []
  // The enclosing describes follow the callback through its awaits (async describe callbacks).
  const scope = new AsyncLocalStorage<readonly string[]>()

  const describe = (name: string, fn: () => void | Promise<void>) => {
    const path = [...(scope.getStore() ?? []), name]
    const result = scope.run(path, fn)
    if (result instanceof Promise) pending.push(result)
  }
  const record = (skipped: boolean) => (title: string, fn: TestFunction) => {
    tests.push({ path: scope.getStore() ?? [], title, fn, skipped })
  }
  const test = Object.assign(record(false), { skip: record(true) })

  const collect = async () => {
    while (pending.length > 0) await pending.shift()
    return [...tests]
  }

  return {
    describe,
    test,
    collect,
    async run(filter = () => true) {
      const results: RecordedResult[] = []
      for (const recorded of (await collect()).filter(filter)) {
        if (recorded.skipped) {
          results.push({ test: recorded, status: 'skipped' })
          continue
        }
        try {
          await recorded.fn()
          results.push({ test: recorded, status: 'passed' })
        } catch (error) {
          results.push({ test: recorded, status: 'failed', error })
        }
      }
      return results
    },
  }
}
