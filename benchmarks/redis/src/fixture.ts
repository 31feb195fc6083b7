/** The cached value: a ~200-byte object (209 bytes as MessagePack through msgpackr, 252 as JSON). */
export const USER = {
  id: 48_213,
  name: 'Ada Lovelace',
  email: 'ada.lovelace@example.com',
  roles: ['admin', 'editor'],
  active: true,
  score: 98.5,
  createdAt: '2026-11-21T09:30:00.000Z',
  address: { street: '12 St James Square', city: 'London', zip: 'SW1Y 4JH', country: 'GB' },
}

/** Keys every contender reads and writes, under its own prefix. */
export const KEYS = Array.from({ length: 1_000 }, (_, i) => `user:${i}`)
export const TTL_MS = 10 * 60_000
