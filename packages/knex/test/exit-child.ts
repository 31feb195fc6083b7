import { KnexStore } from '../src/index.js'

/**
 * The conformance exit check's child: a KnexStore that creates (and so must destroy) its own
 * knex instance, from the JSON knex config the test passes as CELLAR_EXIT_KNEX.
 */
export function createStore(): KnexStore {
  const config = process.env.CELLAR_EXIT_KNEX
  if (config === undefined) throw new Error('[cellar:knex test] CELLAR_EXIT_KNEX is not set')
  return new KnexStore({
    knex: JSON.parse(config),
    prefix: `cellar-test:knex-exit:${process.pid}:`,
  })
}
