// Two demo instances behind one Redis: `pnpm --filter @cellar/demo two` (after `pnpm demo` built
// the packages once). Each runs CACHE_STORE=tiered — an in-process L1 in front of Redis, with a
// RedisBus between them — on the same database, on ports 3001 and 3002.
import { type Instance, startInstance } from './instances.js'

const base = Number(process.env.PORT || 3001)
const env = {
  ...process.env,
  CACHE_STORE: 'tiered',
  REDIS_URL: process.env.REDIS_URL || 'redis://127.0.0.1:6379',
}
const instances: Instance[] = []
const stopAll = async () => {
  await Promise.all(instances.map((instance) => instance.stop()))
  process.exit(0)
}
process.once('SIGINT', () => void stopAll())
process.once('SIGTERM', () => void stopAll())

try {
  // One after the other: the first creates and seeds the database, the second finds it ready.
  instances.push(await startInstance('A', { ...env, PORT: String(base) }))
  instances.push(await startInstance('B', { ...env, PORT: String(base + 1) }))
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
  await Promise.all(instances.map((instance) => instance.stop()))
  process.exit(1)
}
const [a, b] = instances as [Instance, Instance]
console.log(`
Two instances behind ${env.REDIS_URL}: A ${a.url}, B ${b.url} (dashboards at /dashboard)

A stampede on both at once — one database query in total (remember with lock: true):
  curl -X DELETE ${a.url}/products/2/page
  curl -X POST '${a.url}/dashboard/stampede?id=2&forget=false' & curl -X POST '${b.url}/dashboard/stampede?id=2&forget=false'; wait

A write on A, seen on B at once:
  curl ${b.url}/products/2/page
  curl -X PATCH ${a.url}/products/2 -H 'content-type: application/json' -d '{"priceCents": 13900}'
  curl ${b.url}/products/2/page
`)
