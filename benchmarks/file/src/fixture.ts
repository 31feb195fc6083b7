/** A catalogue product: about 200 bytes once serialized, a typical cached row. */
export const PRODUCT = {
  id: 48213,
  sku: 'JKT-WAX-0042-L',
  name: 'Waxed canvas field jacket',
  price: 189.5,
  currency: 'EUR',
  inStock: true,
  stock: 17,
  tags: ['outerwear', 'canvas', 'waterproof'],
  dimensions: { width: 60, height: 80, depth: 4 },
  updatedAt: '2026-11-21T10:00:00.000Z',
  supplier: 'Nordic Outfitters AB',
}

/** How many keys each contender cycles through (so reads are not all one file). */
export const KEY_COUNT = 256

export const keys = Array.from({ length: KEY_COUNT }, (_, i) => `product:${i}`)

/** A cursor over `keys`, one per benchmark so contenders never share a position. */
export function cycle(): () => string {
  let i = 0
  return () => {
    i = (i + 1) % KEY_COUNT
    return keys[i]!
  }
}
