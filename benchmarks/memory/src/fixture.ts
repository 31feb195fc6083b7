/** The cached value every contender stores: a product row, ~200 bytes as JSON or MessagePack. */
export interface Product {
  id: number
  sku: string
  name: string
  category: string
  priceCents: number
  stock: number
  active: boolean
  tags: string[]
  updatedAt: string
}

export const PRODUCT: Product = {
  id: 48_213,
  sku: 'SKU-0048213-BLK',
  name: 'Espresso beans, single origin, 1 kg bag',
  category: 'coffee/beans/whole',
  priceCents: 2490,
  stock: 40,
  active: true,
  tags: ['coffee', 'beans', 'arabica', 'whole'],
  updatedAt: '2026-11-21T10:15:00.000Z',
}

/** The TTL every contender writes with, as real caches do: one hour. */
export const TTL_MS = 3_600_000

/** How many distinct keys the hit and set benchmarks cycle through (a power of two). */
export const KEY_COUNT = 1024
export const KEY_MASK = KEY_COUNT - 1

/** Keys that are written before the get-hit benchmarks. */
export const HIT_KEYS: readonly string[] = Array.from({ length: KEY_COUNT }, (_, i) => `p:${i}`)

/** Keys that are never written. */
export const MISS_KEYS: readonly string[] = Array.from({ length: KEY_COUNT }, (_, i) => `m:${i}`)

/** A function returning the keys in turn, forever; one per benchmark so none shares a position. */
export function cycle(keys: readonly string[]): () => string {
  let i = 0
  return () => {
    i = (i + 1) & KEY_MASK
    return keys[i]!
  }
}
