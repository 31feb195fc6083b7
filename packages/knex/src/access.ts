import { type DbAccess, type DbRecordsSpec, InvalidArgumentError } from '@cellar/core'
import type { Knex } from 'knex'
import { backendError } from './errors.js'

/**
 * `DbRecordsSpec.query` for `KnexAccess`: a select query builder, or a function that builds one
 * from the access's knex instance. It must select the key column(s); its own ORDER BY is ignored.
 */
export type KnexRecordsQuery = Knex.QueryBuilder | ((knex: Knex) => Knex.QueryBuilder)

export interface KnexAccessOptions {
  /**
   * Result column(s) that identify a row: unique and never null. Batches are ordered by them
   * and each resumes after the last key of the previous one (keyset pagination).
   * @default 'id'
   */
  key?: string | readonly string[]
  /**
   * Rows fetched per query; at most one batch is held in memory.
   * @default 500
   */
  batchSize?: number
}

// The caller's query runs as a derived table, so its WHERE (ORs included) stays grouped and the
// key columns are plain result columns; every engine here merges it into the outer query.
const SOURCE = 'cellar_records'

/**
 * `DbAccess` over knex: streams the rows a query selects as plain objects, in keyset-paginated
 * batches. Each batch is a short query of its own, so the pool connection is returned between
 * batches and leaving the loop early holds nothing. Batches are not one snapshot: rows changed
 * while iterating may be seen as of different moments.
 */
export class KnexAccess<R extends object = Record<string, unknown>>
  implements DbAccess<R, KnexRecordsQuery>
{
  readonly #knex: Knex
  readonly #keys: readonly string[]
  readonly #batchSize: number

  constructor(knex: Knex, options: KnexAccessOptions = {}) {
    if (typeof knex !== 'function') {
      throw new InvalidArgumentError('[cellar:knex] KnexAccess needs a knex instance')
    }
    const key = options.key ?? 'id'
    const keys = typeof key === 'string' ? [key] : [...key]
    if (keys.length === 0 || keys.some((name) => typeof name !== 'string' || name.length === 0)) {
      throw new InvalidArgumentError('[cellar:knex] KnexAccess key must name at least one column')
    }
    const batchSize = options.batchSize ?? 500
    if (!Number.isSafeInteger(batchSize) || batchSize < 1) {
      throw new InvalidArgumentError(
        '[cellar:knex] KnexAccess batchSize must be a positive integer',
      )
    }
    this.#knex = knex
    this.#keys = keys
    this.#batchSize = batchSize
  }

  /** Yields every row the spec's query selects, ordered by the key column(s). */
  async *getRecords(spec: DbRecordsSpec<KnexRecordsQuery>): AsyncGenerator<R, void, undefined> {
    const source = this.#source(spec)
    let after: unknown[] | undefined
    for (;;) {
      const rows = await this.#batch(source, after)
      for (const row of rows) yield row
      if (rows.length < this.#batchSize) return
      const last = rows[rows.length - 1] as Record<string, unknown>
      after = this.#keys.map((key) => last[key])
    }
  }

  #source(spec: DbRecordsSpec<KnexRecordsQuery>): Knex.QueryBuilder {
    const query = spec?.query
    const builder = typeof query === 'function' && !isBuilder(query) ? query(this.#knex) : query
    if (!isBuilder(builder)) {
      throw new InvalidArgumentError(
        '[cellar:knex] DbRecordsSpec.query must be a knex query builder or (knex) => builder',
      )
    }
    return builder
  }

  async #batch(source: Knex.QueryBuilder, after: unknown[] | undefined): Promise<R[]> {
    const query = this.#knex.select('*').from(source.clone().clearOrder().as(SOURCE))
    if (after !== undefined) {
      if (this.#keys.length === 1) {
        query.where(this.#keys[0] as string, '>', after[0] as Knex.Value)
      } else {
        const columns = this.#keys.map(() => '??').join(', ')
        const values = this.#keys.map(() => '?').join(', ')
        query.whereRaw(`(${columns}) > (${values})`, [...this.#keys, ...after] as Knex.Value[])
      }
    }
    for (const key of this.#keys) query.orderBy(key, 'asc')
    query.limit(this.#batchSize)
    try {
      const rows = (await query) as object[]
      return rows.map((row) =>
        Object.getPrototypeOf(row) === Object.prototype ? row : { ...row },
      ) as R[]
    } catch (error) {
      throw backendError('getRecords', error)
    }
  }
}

function isBuilder(value: unknown): value is Knex.QueryBuilder {
  return typeof value === 'function' || typeof value === 'object'
    ? value !== null &&
        typeof (value as Knex.QueryBuilder).clone === 'function' &&
        typeof (value as Knex.QueryBuilder).toSQL === 'function'
    : false
}
