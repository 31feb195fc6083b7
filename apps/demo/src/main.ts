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

Try:
  curl -i ${url}/products/1                      # x-cache: miss, then hit
  curl -X PATCH ${url}/products/1 -H 'content-type: application/json' -d '{"priceCents": 2190}'
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
