export { createApp, ROUTES } from './app.js'
export type { DemoCache } from './cache.js'
export { DEFAULT_CACHE_PREFIX, openCache } from './cache.js'
export type {
  CacheOutcome,
  CatalogOptions,
  Category,
  Invalidation,
  PageRequest,
  ProductFilters,
  ProductList,
  Read,
} from './catalog.js'
export { Catalog, DEFAULT_PAGE, pageKey } from './catalog.js'
export type { DemoConfig } from './config.js'
export { DEFAULT_DATABASE_FILE, loadConfig } from './config.js'
export type { AppContext } from './context.js'
export type { SelfFetch } from './dashboard/routes.js'
export { dashboardRoutes } from './dashboard/routes.js'
export type { KeyRow, ListRow, Snapshot } from './dashboard/snapshot.js'
export { SnapshotReader, WATCHED_LISTS } from './dashboard/snapshot.js'
export type { DatabaseSource } from './db/database.js'
export { databaseLabel, openDatabase, SEED_PRODUCTS } from './db/database.js'
export type { Order, OrderRow } from './db/orders.js'
export { SEED_ORDERS } from './db/orders.js'
export type { Product, ProductPage, ProductPatch, ProductRow } from './db/products.js'
export { ProductTable, QueryCounter } from './db/products.js'
export type { WriteNotice } from './notices.js'
export { WriteNotices } from './notices.js'
export type { OrdersStats, OrdersStorage, RecentOrdersOptions } from './recent-orders.js'
export { localOrdersStorage, RecentOrders } from './recent-orders.js'
export type { CategoryRow } from './repositories.js'
export { CLIENT_HEADER } from './routes/search.js'
export type { RunningServer, StartServerOptions } from './server.js'
export { startServer } from './server.js'
export type { BackendStatus, HistoryPoint, StoreCounts } from './stats.js'
export { CacheStats } from './stats.js'
