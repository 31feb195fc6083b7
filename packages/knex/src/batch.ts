import type { Context } from './context.js'
import { chunk, execOn, expiryOf, toBytes } from './sql.js'

// The store's multi-row work: statements over runs of at most `batchSize` keys (or rows per
// page), so no statement grows with the caller's input. Keys are already checked and scoped.

/** The live values of `stored` keys, by stored key (a missing or expired key is absent). */
export async function readMany(ctx: Context, stored: string[]): Promise<Map<string, Uint8Array>> {
  const found = new Map<string, Uint8Array>()
  await ctx.run('getMany', undefined, async (exec, dialect) => {
    const now = ctx.now()
    for (const run of chunk(stored, ctx.batchSize)) {
      const rows = dialect.rows(await exec(ctx.sql.getMany(run.length), [...run, now]))
      for (const row of rows) found.set(dialect.keyText(row.key), toBytes(row.value))
    }
  })
  return found
}

/** Upserts every entry with one expiry; several statements run in one transaction. */
export async function writeMany(
  ctx: Context,
  entries: ReadonlyMap<string, Buffer>,
  ttlMs: number | null,
): Promise<void> {
  const runs = chunk([...entries], ctx.batchSize)
  await ctx.run('setMany', undefined, async (exec) => {
    const expiresAt = expiryOf(ctx.now(), ttlMs)
    const write = async (run: Array<[string, Buffer]>, through = exec) => {
      await through(
        ctx.sql.upsert(run.length),
        run.flatMap(([key, value]) => [key, value, expiresAt]),
      )
    }
    if (runs.length === 1) return write(runs[0] as Array<[string, Buffer]>)
    // Several statements: one transaction keeps the batch all-or-nothing.
    await ctx.knex.transaction(async (trx) => {
      for (const run of runs) await write(run, execOn(trx))
    })
  })
}

/**
 * Deletes `stored` keys and resolves how many rows went: live rows only (`liveOnly`, what
 * `delete` counts) or any row. `key` names the caller's key in errors.
 */
export function deleteStored(
  ctx: Context,
  operation: string,
  key: string | undefined,
  stored: string[],
  liveOnly: boolean,
): Promise<number> {
  const { sql } = ctx
  return ctx.run(operation, key, async (exec, dialect) => {
    const now = ctx.now()
    let removed = 0
    for (const run of chunk(stored, ctx.batchSize)) {
      const result = liveOnly
        ? await exec(sql.deleteLive(run.length), [...run, now])
        : await exec(sql.deleteAny(run.length), run)
      removed += dialect.affected(result)
    }
    return removed
  })
}

/**
 * The live stored keys from `prefix` up to `upper` (exclusive; unbounded when undefined), one
 * page of `batchSize` rows per statement, in key order; `check` runs before every page.
 */
export async function* storedKeys(
  ctx: Context,
  prefix: string,
  upper: string | undefined,
  check: () => void,
): AsyncGenerator<string, void, undefined> {
  const sql = ctx.sql.keysPage(upper !== undefined)
  let after = prefix
  for (;;) {
    check()
    const page = await ctx.run('keys', undefined, async (exec, dialect) => {
      const bindings = upper === undefined ? [after] : [after, upper]
      const rows = dialect.rows(await exec(sql, [...bindings, ctx.now()]))
      return rows.map((row) => dialect.keyText(row.key))
    })
    yield* page
    if (page.length < ctx.batchSize) return
    after = page[page.length - 1] as string
  }
}
