import { loadConfig } from './config.js'
import { startServer } from './server.js'

const config = loadConfig()
const running = await startServer({
  port: config.port,
  host: config.host,
  databaseFile: config.databaseFile,
  ...(config.databaseUrl !== undefined && { databaseUrl: config.databaseUrl }),
  cacheEnv: process.env,
})
const { url, context } = running

console.log(`cellar demo listening on ${url}
  dashboard: ${url}/dashboard
  cache:     ${context.labels.store}
  database:  ${context.labels.database}
  instance:  ${context.labels.instance}

Try:
  curl -i ${url}/products/1                      # x-cache: miss, then hit
  curl -i '${url}/products?category=1&inStock=true'
  curl -X PATCH ${url}/products/1 -H 'content-type: application/json' -d '{"priceCents": 2190}'
  curl -i '${url}/products?category=2'           # still a hit: another category
  curl -i ${url}/orders/recent?hours=24          # x-table-cache: hit
  curl -X POST ${url}/orders -H 'content-type: application/json' -d '{"productId": 1}'
  for i in 1 2 3 4 5 6; do curl -si ${url}/search?q=bean | head -1; done   # the 6th: 429
  curl -X POST ${url}/counters/visits            # atomic increment
  curl -X POST ${url}/jobs/report & curl -X POST ${url}/jobs/report   # one gets 409
`)

const shutdown = (signal: string) => {
  console.log(`${signal}: shutting down`)
  running.close().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error)
      process.exit(1)
    },
  )
}
process.once('SIGINT', () => shutdown('SIGINT'))
process.once('SIGTERM', () => shutdown('SIGTERM'))
