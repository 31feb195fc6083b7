import { type DbAccess, type DbRecordsSpec, MsgpackSerializer } from '@cellar/core'
// The table's own row framing, from source (the package does not export it): the raw-ioredis
// floors decode what RedisStorageTable stores, whatever its row layout.
import {
  msgpackRowCodec,
  StorageRowCodec,
} from '../../../packages/redis/src/storage-table-codec.js'

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

/** What the primary-key-range indexes ask the database: intervals of ids, or ids. */
export type Query = { ge: number; lt: number }[] | number[]

/** A `DbAccess` over the rows 1 to `last` made by `row`, with no database behind it. */
export function rowsDb(last: number): DbAccess<Row, Query> {
  return {
    async *getRecords(spec: DbRecordsSpec<Query>) {
      const query = spec.query
      if (typeof query[0] === 'number') {
        for (const id of query as number[]) if (id >= 1 && id <= last) yield row(id)
        return
      }
      for (const { ge, lt } of query as { ge: number; lt: number }[])
        for (let id = Math.max(1, Math.ceil(ge)); id < lt && id <= last; id++) yield row(id)
    },
  }
}

const serializer = new MsgpackSerializer()
/** The first byte of a row as RedisStorageTable frames it (then the msgpack body). */
const ROW_FORMAT = 0xc7

/** `r` framed as the table stores a row: the format byte, then its msgpack bytes. */
export function framedRow(r: Row): Buffer {
  const body = serializer.encode(r)
  const out = Buffer.allocUnsafe(body.length + 1)
  out[0] = ROW_FORMAT
  out.set(body, 1)
  return out
}

/** The framed row starting at `start` of `bytes` (and ending at `end`, when more follows). */
export function decodeRowAt(bytes: Buffer, start: number, end?: number): Row {
  if (bytes[start] !== ROW_FORMAT) throw new Error('corrupt row')
  return serializer.decodeFrom(end === undefined ? bytes : bytes.subarray(0, end), start + 1) as Row
}

/** The index member the table writes for row `id` of version 1: `<field length>:<field>`, the framed row. */
export function rowMember(id: number, bytes: Buffer = framedRow(row(id))): Buffer {
  const field = `1:${id}`
  return Buffer.concat([Buffer.from(`${field.length}:${field}`, 'latin1'), bytes])
}

/** Decodes rows as RedisStorageTable stores them with its default codec (`decodeAt(bytes, start)`). */
export function tableRowDecoder(): (bytes: Buffer, start: number) => Row {
  const codec = new StorageRowCodec<Row>(msgpackRowCodec<Row>(), 'bench', 16 * 1024 * 1024)
  return (bytes, start) => codec.decodeAt(bytes, start, 'row')
}
