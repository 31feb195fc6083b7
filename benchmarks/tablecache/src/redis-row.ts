/** A bench_orders row as PostgreSQL returns it (bigint `ts` as a string), for the Redis scripts. */
export interface Row {
  id: number
  ts: string
  amount: number
  note: string
}

/** The row with primary key `id`, as the seeded table holds it. */
export const row = (id: number): Row => ({
  id,
  ts: String(id * 10),
  amount: (id * 7919) % 1000,
  note: `order ${id}`,
})
