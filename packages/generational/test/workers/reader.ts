// Reads the first list page until the writer is done; counts reads that return product 1 older
// than the version the writer had committed (and bumped) before the read started.
import { setup } from './shared.js'

const writes = Number(process.argv[6])
const { data, products, close } = setup(process.argv.slice(2))
let reads = 0
let stale = 0
let hits = 0
products.on((event) => {
  if (event.type === 'hit' && event.kind === 'list') hits++
})
for (;;) {
  const committed = (await data.getValue<number>('committed')) ?? 0
  const page = await products.list({ page: 1, limit: 5 })
  reads++
  const price = page.items.find((item) => item.id === 1)?.price ?? -1
  if (price < committed) stale++
  if (committed === writes) break
}
process.send?.({ reads, stale, hits })
await close()
