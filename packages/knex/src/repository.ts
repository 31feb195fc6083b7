import { InvalidArgumentError } from '@cellar/core'
import type { Knex } from 'knex'
import { dialectOf } from './dialects/index.js'
import { backendError } from './errors.js'

type Row = Record<string, unknown>

/** A filter value of `KnexRepository.list`: equality, `IN` for an array, `IS NULL` for null. */
export type KnexFilterValue = string | number | boolean | null | ReadonlyArray<string | number>

/** Options of `new KnexRepository(knex, options)`. */
export interface KnexRepositoryOptions {
  /** The table written by `create`, `update` and `delete`. */
  table: string
  /** The entity name in cache keys and tags. @default table */
  entity?: string
  /** The primary-key column (of `table`, and a column of every row read). @default 'id' */
  id?: string
  /**
   * The query every read starts from, e.g. the table joined with another. It must select the
   * id column under its own name. @default knex(table).select('*')
   */
  select?: (knex: Knex) => Knex.QueryBuilder
  /**
   * Filter names accepted by `list`, mapped to their (qualified) columns. Without it a filter
   * name must be a plain column of `table`.
   */
  filters?: Readonly<Record<string, string>>
  /** Named queries for `query(name, args)`; each runs on the knex instance it is given. */
  queries?: Readonly<Record<string, (knex: Knex, args: unknown) => Promise<unknown>>>
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/

/**
 * `@cellar/generational`'s repository protocol over one table (with any joins in `select`):
 * reads by id, by ids (`WHERE id IN`), offset and cursor pages with simple filters, named
 * queries, and writes that take a knex transaction (`{ transaction: trx }`), whose commit
 * `afterCommit` waits for.
 */
export class KnexRepository<
  T extends object = Record<string, unknown>,
  Create = Partial<T>,
  Update = Partial<T>,
> {
  /** The entity name in cache keys and tags. */
  readonly entity: string
  readonly #knex: Knex
  readonly #table: string
  readonly #id: string
  readonly #select: (knex: Knex) => Knex.QueryBuilder
  readonly #filters: Readonly<Record<string, string>> | undefined
  readonly #queries: Readonly<Record<string, (knex: Knex, args: unknown) => Promise<unknown>>>
  readonly #returning: boolean

  constructor(knex: Knex, options: KnexRepositoryOptions) {
    if (typeof knex !== 'function') {
      throw new InvalidArgumentError('[cellar:knex] KnexRepository needs a knex instance')
    }
    if (typeof options?.table !== 'string' || options.table.length === 0) {
      throw new InvalidArgumentError('[cellar:knex] KnexRepository needs a table name')
    }
    this.#knex = knex
    this.#table = options.table
    this.entity = options.entity ?? options.table
    this.#id = options.id ?? 'id'
    this.#select = options.select ?? ((db) => db(this.#table).select('*'))
    this.#filters = options.filters
    this.#queries = options.queries ?? {}
    this.#returning = dialectOf(knex).name !== 'mysql'
  }

  /** The id of a row this repository returned. */
  idOf(item: T): string | number {
    return (item as Row)[this.#id] as string | number
  }

  /** The row, or `null`. */
  async getById(id: string | number): Promise<T | null> {
    return this.#one(this.#byId(this.#knex, id), 'getById')
  }

  /** The rows that exist among `ids`: one `WHERE id IN (…)`. */
  async getByIds(ids: ReadonlyArray<string | number>): Promise<T[]> {
    if (ids.length === 0) return []
    return this.#rows(this.#base(this.#knex).whereIn(this.#idColumn, [...ids]), 'getByIds')
  }

  /** An offset page (`{ page, limit }`, with `total`) or a cursor page (`{ cursor, limit }`). */
  async list(
    page: { page: number; limit: number } | { cursor?: string | null; limit: number },
    filters?: unknown,
  ): Promise<{ items: T[]; total?: number; nextCursor?: string | null }> {
    const limit = page.limit
    if (!Number.isSafeInteger(limit) || limit < 1) {
      throw new InvalidArgumentError('[cellar:knex] a page limit must be a positive integer')
    }
    const filtered = this.#filtered(filters)
    if ('page' in page) {
      if (!Number.isSafeInteger(page.page) || page.page < 1) {
        throw new InvalidArgumentError('[cellar:knex] page must be an integer from 1')
      }
      const [items, counted] = await Promise.all([
        this.#rows(
          filtered
            .clone()
            .orderBy(this.#idColumn)
            .limit(limit)
            .offset((page.page - 1) * limit),
          'list',
        ),
        this.#run(this.#knex.count({ n: '*' }).from(filtered.clone().as('cellar_page')), 'list'),
      ])
      return { items, total: Number((counted as Row[])[0]?.n ?? 0) }
    }
    const query = filtered
      .clone()
      .orderBy(this.#idColumn)
      .limit(limit + 1)
    if (page.cursor !== undefined && page.cursor !== null) {
      query.where(this.#idColumn, '>', JSON.parse(page.cursor) as string | number)
    }
    const rows = await this.#rows(query, 'list')
    const more = rows.length > limit
    const items = more ? rows.slice(0, limit) : rows
    const last = items[items.length - 1]
    return { items, nextCursor: more && last ? JSON.stringify(this.idOf(last)) : null }
  }

  /** Runs the named query of `options.queries`. */
  async query(name: string, args?: unknown): Promise<unknown> {
    const run = Object.hasOwn(this.#queries, name) ? this.#queries[name] : undefined
    if (run === undefined) {
      throw new InvalidArgumentError(
        `[cellar:knex] repository "${this.entity}" has no query "${name}"`,
      )
    }
    try {
      return await run(this.#knex, args)
    } catch (error) {
      throw backendError(`query ${name}`, error)
    }
  }

  /** Inserts a row (in `options.transaction` if given) and resolves it as `select` reads it. */
  async create(data: Create, options?: { transaction?: unknown }): Promise<T> {
    const db = this.#db(options)
    let id: string | number
    try {
      if (this.#returning) {
        const [row] = (await db(this.#table).insert(data).returning(this.#id)) as unknown[]
        id = (typeof row === 'object' && row !== null ? (row as Row)[this.#id] : row) as
          | string
          | number
      } else {
        const [insertId] = (await db(this.#table).insert(data)) as number[]
        id = ((data as Row)[this.#id] as string | number | undefined) ?? (insertId as number)
      }
    } catch (error) {
      throw backendError('create', error)
    }
    const created = await this.#one(this.#byId(db, id), 'create')
    if (created === null)
      throw backendError('create', new Error(`row ${id} not found after insert`))
    return created
  }

  /** Updates the row; resolves it as `select` reads it, or `null` when no row has that id. */
  async update(
    id: string | number,
    data: Update,
    options?: { transaction?: unknown },
  ): Promise<T | null> {
    const db = this.#db(options)
    const changed = await this.#run(db(this.#table).where(this.#id, id).update(data), 'update')
    if (Number(changed) === 0) return null
    return this.#one(this.#byId(db, id), 'update')
  }

  /** Deletes the row; resolves true if there was one. */
  async delete(id: string | number, options?: { transaction?: unknown }): Promise<boolean> {
    const db = this.#db(options)
    return Number(await this.#run(db(this.#table).where(this.#id, id).del(), 'delete')) > 0
  }

  /** The first row (by id) whose `field` equals `value`, or `null`. */
  async getBy(field: string, value: unknown): Promise<T | null> {
    const query = this.#base(this.#knex)
      .where(this.#column(field), value as Knex.Value)
      .orderBy(this.#idColumn)
    return this.#one(query, 'getBy')
  }

  /** Whether a row whose `field` equals `value` exists. */
  async existsBy(field: string, value: unknown): Promise<boolean> {
    return (await this.getBy(field, value)) !== null
  }

  /** Runs `action` once the knex transaction commits; never if it rolls back. */
  afterCommit(transaction: unknown, action: () => Promise<void>): void {
    const execution = (transaction as Partial<Knex.Transaction> | null)?.executionPromise
    if (!(execution instanceof Promise)) {
      throw new InvalidArgumentError('[cellar:knex] afterCommit needs a knex transaction')
    }
    execution.then(
      () => action(),
      () => undefined,
    )
  }

  get #idColumn(): string {
    return `${this.#table}.${this.#id}`
  }

  #db(options: { transaction?: unknown } | undefined): Knex {
    const trx = options?.transaction
    if (trx === undefined) return this.#knex
    if (typeof trx !== 'function' || !(trx as Knex.Transaction).isTransaction) {
      throw new InvalidArgumentError('[cellar:knex] options.transaction must be a knex transaction')
    }
    return trx as Knex.Transaction
  }

  #base(db: Knex): Knex.QueryBuilder {
    return this.#select(db)
  }

  #byId(db: Knex, id: string | number): Knex.QueryBuilder {
    return this.#base(db).where(this.#idColumn, id).limit(1)
  }

  #column(name: string): string {
    if (this.#filters !== undefined) {
      const column = Object.hasOwn(this.#filters, name) ? this.#filters[name] : undefined
      if (column === undefined) {
        throw new InvalidArgumentError(
          `[cellar:knex] repository "${this.entity}" has no filter "${name}"`,
        )
      }
      return column
    }
    if (!IDENTIFIER.test(name)) {
      throw new InvalidArgumentError(`[cellar:knex] "${name}" is not a column name`)
    }
    return `${this.#table}.${name}`
  }

  #filtered(filters: unknown): Knex.QueryBuilder {
    const query = this.#base(this.#knex)
    if (filters === undefined || filters === null) return query
    if (typeof filters !== 'object' || Array.isArray(filters)) {
      throw new InvalidArgumentError('[cellar:knex] filters must be an object of column values')
    }
    for (const [name, value] of Object.entries(filters as Record<string, KnexFilterValue>)) {
      const column = this.#column(name)
      if (value === null) query.whereNull(column)
      else if (Array.isArray(value)) query.whereIn(column, [...value])
      else query.where(column, value as Knex.Value)
    }
    return query
  }

  async #one(query: Knex.QueryBuilder, operation: string): Promise<T | null> {
    const rows = await this.#rows(query, operation)
    return rows[0] ?? null
  }

  async #rows(query: Knex.QueryBuilder, operation: string): Promise<T[]> {
    const rows = (await this.#run(query, operation)) as object[]
    return rows.map((row) =>
      Object.getPrototypeOf(row) === Object.prototype ? row : { ...row },
    ) as T[]
  }

  async #run<R>(query: PromiseLike<R>, operation: string): Promise<R> {
    try {
      return await query
    } catch (error) {
      throw backendError(operation, error)
    }
  }
}
