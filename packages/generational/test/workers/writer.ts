// Writes product 1's price 1..N through the cached repository; after each write has committed
// and its bump has completed, records N in the shared `committed` key.
import { setup } from './shared.js'

const writes = Number(process.argv[6])
const { data, products, close } = setup(process.argv.slice(2))
for (let version = 1; version <= writes; version++) {
  await products.update(1, { price: version })
  await data.setValue('committed', version, null)
}
process.send?.({ writes })
await close()
