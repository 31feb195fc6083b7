import { AsyncLocalStorage } from 'node:async_hooks'
import type { DbAccess, RecordScorer, StorageTable } from '@cellar/core'
import { KnexAccess, type KnexRecordsQuery } from '@cellar/knex'
import {
  CachedTable,
  LocalStorageTable,
  type RangeIndexes,
  type ReadKind,
  timeRangeIndexes,
} from '@cellar/tablecache'
import type { Knex } from 'knex'
import { type Order, type OrderRow, toOrder } from './db/orders.js'

const HOUR = 3_600_000
const DAY = 24 * HOUR

/** What the orders cache has done since start, for the dashboard and the tests. */
export interface OrdersStats {
  /** The window of `created_at` held in storage, `[ge, lt)` as ISO times. */
  readonly window: { readonly ge: string; readonly lt: string }
  /** Reads by how they were served. */
  readonly reads: Record<ReadKind, number>
  /** Queries the table cache sent to the database (load, refreshes, adjustments, misses). */
  readonly queries: number
  /** Records the refreshes after writes reloaded. */
  readonly refreshedRecords: number
  readonly storage: string
  /** Times the table cache was rebuilt because its storage lost its state. */
  readonly reloads: number
}

/** Where the cached rows live: a storage table over the orders' indexes, and its name. */
export interface OrdersStorage {
  create(scorer: RecordScorer<OrderRow>): StorageTable<OrderRow>
  readonly label: string
}

/** In process: `LocalStorageTable`. */
export const localOrdersStorage: OrdersStorage = {
  create: (scorer) => new LocalStorageTable(scorer, { name: 'orders' }),
  label: 'LocalStorageTable (in process)',
}

/** Options of `RecentOrders`. */
export interface RecentOrdersOptions {
  /** @default localOrdersStorage */
  readonly storage?: OrdersStorage
  /** How far back the cached window reaches. @default 7 days */
  readonly windowMs?: number
  /** How often the window moves forward (an `adjust`). @default 1 hour */
  readonly adjustEveryMs?: number
}

/**
 * Recent orders from a `CachedTable` over the `orders` table, indexed by `created_at`
 * (`timeRangeIndexes`), stored by `LocalStorageTable` (or Redis's `RedisStorageTable`), read from the database through
 * `KnexAccess`. A read inside the window is served from storage; one reaching outside it goes
 * wholly to the database. A new order invalidates its instant of the index, so the next read
 * refreshes that range from the database first: the order shows at once.
 */
interface Parts {
  readonly indexes: RangeIndexes<OrderRow, KnexRecordsQuery>
  readonly storage: StorageTable<OrderRow>
  readonly table: CachedTable<OrderRow, KnexRecordsQuery>
}

export class RecentOrders {
  readonly #db: Knex
  readonly #access: DbAccess<OrderRow, KnexRecordsQuery>
  readonly #storageOption: OrdersStorage
  readonly #windowMs: number
  readonly #adjustEveryMs: number
  readonly #served = new AsyncLocalStorage<{ kind?: ReadKind }>()
  readonly #reads: Record<ReadKind, number> = { hit: 0, hitWithRefresh: 0, miss: 0 }
  #parts: Parts
  #queries = 0
  #refreshed = 0
  #reloads = 0
  #timer: NodeJS.Timeout | undefined

  constructor(db: Knex, options: RecentOrdersOptions = {}) {
    this.#db = db
    this.#windowMs = options.windowMs ?? 7 * DAY
    this.#adjustEveryMs = options.adjustEveryMs ?? HOUR
    this.#storageOption = options.storage ?? localOrdersStorage
    const knexAccess = new KnexAccess<OrderRow>(db)
    // Counts every query the table cache sends, so a test can tell storage from database.
    this.#access = {
      getRecords: (spec) => {
        this.#queries++
        return knexAccess.getRecords(spec)
      },
    }
    this.#parts = this.#build()
  }

  /** Loads the window `[now − window, now + 1 day)` and moves it forward every hour. */
  async start(): Promise<void> {
    await this.#parts.table.load(this.#target())
    this.#timer = setInterval(() => {
      this.#parts.table.adjust(this.#target()).catch((error: unknown) => console.error(error))
    }, this.#adjustEveryMs)
    this.#timer.unref()
  }

  /**
   * Loads a fresh table cache and switches reads to it once loaded: for a storage that lost
   * its state under the table (a Redis restarted without persistence).
   */
  async reload(): Promise<void> {
    const fresh = this.#build()
    await fresh.storage.clear()
    await fresh.table.load(this.#target())
    const old = this.#parts
    this.#parts = fresh
    this.#reloads++
    await old.storage.clear().catch(() => undefined)
  }

  /** Stops moving the window and empties the storage (a table's state is its process's). */
  async close(): Promise<void> {
    clearInterval(this.#timer)
    await this.#parts.storage.clear().catch(() => undefined)
  }

  #build(): Parts {
    const indexes = timeRangeIndexes<OrderRow, KnexRecordsQuery>({
      timestamp: (order) => Number(order.created_at),
      primaryKey: (order) => Number(order.id),
      queryIntervals: (intervals) => (k) =>
        k('orders').where((where) => {
          for (const { ge, lt } of intervals) {
            where.orWhere((range) =>
              range.where('created_at', '>=', ge).where('created_at', '<', lt),
            )
          }
        }),
      queryKeys: (keys) => (k) => k('orders').whereIn('id', keys.map(Number)),
    })
    const storage = this.#storageOption.create(indexes)
    const table = new CachedTable(indexes, this.#access, storage, {
      metrics: {
        read: (kind) => {
          this.#reads[kind]++
          const slot = this.#served.getStore()
          if (slot !== undefined) slot.kind = kind
        },
        refreshed: (records) => {
          this.#refreshed += records
        },
      },
    })
    return { indexes, storage, table }
  }

  /** Orders created in `[since, until)`, newest first, and how the read was served. */
  async between(since: number, until: number): Promise<{ orders: Order[]; served: ReadKind }> {
    const slot: { kind?: ReadKind } = {}
    const rows = await this.#served.run(slot, async () => {
      const found: OrderRow[] = []
      const { table } = this.#parts
      for await (const row of table.getRecords({ indexName: 'time', ge: since, lt: until })) {
        found.push(row)
      }
      return found
    })
    const orders = rows
      .map(toOrder)
      .sort((a, b) => b.createdAt.localeCompare(a.createdAt) || b.id - a.id)
    return { orders, served: slot.kind ?? 'miss' }
  }

  /**
   * Inserts an order (its total from the product's price), then tells the table cache which
   * instant of `created_at` changed; resolves undefined when the product does not exist.
   */
  async create(productId: number, quantity: number): Promise<Order | undefined> {
    const createdAt = Date.now()
    const row = await this.#db.transaction(async (trx) => {
      const product = await trx('products').where({ id: productId }).first('price_cents')
      if (product === undefined) return undefined
      const values = {
        product_id: productId,
        quantity,
        total_cents: Number(product.price_cents) * quantity,
        created_at: createdAt,
      }
      const [inserted] = await trx('orders').insert(values, ['id'])
      const id = typeof inserted === 'object' ? (inserted as { id: number }).id : inserted
      return { id: Number(id), ...values } satisfies OrderRow
    })
    if (row === undefined) return undefined
    const { indexes, table } = this.#parts
    if (createdAt + 1 > indexes.loadedInterval.lt) await table.adjust(this.#target())
    // A new row: it was nowhere before and is at this instant now.
    const instant = { indexName: 'time', ge: createdAt, lt: createdAt + 1 }
    table.invalidateRecords([instant], [instant])
    return toOrder(row)
  }

  /** The window and the counts so far. */
  stats(): OrdersStats {
    const { ge, lt } = this.#parts.indexes.loadedInterval
    return {
      window: { ge: new Date(ge).toISOString(), lt: new Date(lt).toISOString() },
      reads: { ...this.#reads },
      queries: this.#queries,
      refreshedRecords: this.#refreshed,
      storage: this.#storageOption.label,
      reloads: this.#reloads,
    }
  }

  #target() {
    const now = Date.now()
    return { indexName: 'time', ge: now - this.#windowMs, lt: now + DAY }
  }
}
