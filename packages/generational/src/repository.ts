/** An entity id: what `Repository.idOf` returns and `getById` takes. */
export type EntityId = string | number

/** Offset pagination: `page` counts from 1. */
export interface OffsetPage {
  readonly page: number
  readonly limit: number
}

/** Cursor pagination: no cursor (or `null`) asks for the first page. */
export interface CursorPage {
  readonly cursor?: string | null
  readonly limit: number
}

/** A page of entities; `total` for offset pages, `nextCursor` (`null` at the end) for cursor pages. */
export interface ListResult<T> {
  readonly items: readonly T[]
  readonly total?: number
  readonly nextCursor?: string | null
}

/** Options a write passes through to the repository. */
export interface WriteOptions {
  /**
   * The transaction the write runs in (a knex `Transaction`, for `KnexRepository`). The cache
   * is invalidated once it commits, through `Repository.afterCommit`, and not if it rolls back.
   */
  readonly transaction?: unknown
}

/**
 * The repository protocol `CachedRepository` wraps: reads and writes of one entity (table).
 * `@cellar/knex`'s `KnexRepository` implements it over a table; any other data source can.
 */
export interface Repository<
  T,
  Id extends EntityId = EntityId,
  Create = Partial<T>,
  Update = Partial<T>,
> {
  /** The entity's name, used in keys and tags (e.g. the table name). */
  readonly entity: string
  /** The id of an entity this repository returned. */
  idOf(item: T): Id
  /** Resolves the entity, or `null` when there is none. */
  getById(id: Id): Promise<T | null>
  /** Resolves the entities that exist among `ids` (one `WHERE id IN` per batch), in any order. */
  getByIds(ids: readonly Id[]): Promise<T[]>
  /** One page of the entities matching `filters`. */
  list(page: OffsetPage | CursorPage, filters?: unknown): Promise<ListResult<T>>
  /** Runs the named query with `args`; resolves its result (`null` or `undefined`: nothing). */
  query(name: string, args?: unknown): Promise<unknown>
  /** Inserts and resolves the new entity. */
  create(data: Create, options?: WriteOptions): Promise<T>
  /** Updates and resolves the entity, or `null` when the id does not exist. */
  update(id: Id, data: Update, options?: WriteOptions): Promise<T | null>
  /** Resolves true if the entity existed and was deleted. */
  delete(id: Id, options?: WriteOptions): Promise<boolean>
  /** The first entity whose `field` equals `value`, or `null`. */
  getBy?(field: string, value: unknown): Promise<T | null>
  /** Whether an entity whose `field` equals `value` exists. */
  existsBy?(field: string, value: unknown): Promise<boolean>
  /**
   * Runs `action` once `transaction` has committed, and never if it rolls back. Needed for
   * writes that pass `WriteOptions.transaction`.
   */
  afterCommit?(transaction: unknown, action: () => Promise<void>): void
}
