import type { Dirent } from 'node:fs'
import { open, readdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import { errorCode } from './errors.js'
import {
  discard,
  isEntryName,
  keyPath,
  readIfExists,
  removeIfExists,
  TEMP_SUFFIX,
} from './file-io.js'
import { decodeFile, decodeHeader, HEADER_SIZE, type Header, isExpired, Kind } from './format.js'

const FAN_DIR = /^[0-9a-f]{2}$/
const HEAD_READ = 4096
/** Files read at once by `clear()` and `keys()`. */
const PARALLEL = 32
/** Temporary files older than this belong to a writer that died mid-write. */
const ABANDONED_TEMP_MS = 10 * 60_000

interface Found {
  readonly path: string
  readonly name: string
}

async function listDir(directory: string): Promise<Dirent[]> {
  try {
    return await readdir(directory, { withFileTypes: true })
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return []
    throw error
  }
}

/** Every file in the directory and its fan-out subdirectories (both, so `fanOut` can change). */
async function* files(directory: string): AsyncGenerator<Found> {
  for (const entry of await listDir(directory)) {
    if (entry.isFile()) yield { path: join(directory, entry.name), name: entry.name }
    else if (entry.isDirectory() && FAN_DIR.test(entry.name)) {
      const sub = join(directory, entry.name)
      for (const inner of await listDir(sub)) {
        if (inner.isFile()) yield { path: join(sub, inner.name), name: inner.name }
      }
    }
  }
}

/** A file's header, and the whole file when it was small enough to come in the first read. */
interface Head {
  readonly header: Header
  readonly whole: Buffer | undefined
}

/** Reads the header and key of a file (the whole file if it is under 4 KiB); not ours → undefined. */
async function readHead(path: string): Promise<Head | undefined> {
  let handle: Awaited<ReturnType<typeof open>>
  try {
    handle = await open(path, 'r')
  } catch (error) {
    if (errorCode(error) === 'ENOENT') return undefined
    throw error
  }
  try {
    const first = Buffer.allocUnsafe(HEAD_READ)
    const { bytesRead } = await handle.read(first, 0, HEAD_READ, 0)
    let head = first.subarray(0, bytesRead)
    if (bytesRead === HEAD_READ) {
      const needed = HEADER_SIZE + head.readUInt32BE(16)
      // Size the second read by the file, not the header: a corrupt length must not allocate GBs.
      if (needed > HEAD_READ && needed <= (await handle.stat()).size) {
        const whole = Buffer.allocUnsafe(needed)
        const again = await handle.read(whole, 0, needed, 0)
        head = whole.subarray(0, again.bytesRead)
      }
    }
    const header = decodeHeader(head)
    if (header === undefined) return undefined
    return { header, whole: bytesRead < HEAD_READ ? head : undefined }
  } finally {
    await handle.close()
  }
}

/** Reads the header and key of a file without its value; `undefined` if it is not one of ours. */
export async function readHeader(path: string): Promise<Header | undefined> {
  return (await readHead(path))?.header
}

/** `fn` of every entry file in the directory, `PARALLEL` files at a time, in no set order. */
async function* mapEntries<T>(
  directory: string,
  fn: (file: Found) => Promise<T>,
): AsyncGenerator<T> {
  let batch: Found[] = []
  for await (const file of files(directory)) {
    if (!isEntryName(file.name)) continue
    batch.push(file)
    if (batch.length < PARALLEL) continue
    yield* await Promise.all(batch.map(fn))
    batch = []
  }
  yield* await Promise.all(batch.map(fn))
}

/** Removes every cache entry whose stored key starts with `prefix`; resolves how many. */
export async function clearPrefix(directory: string, prefix: Buffer): Promise<number> {
  let removed = 0
  const remove = async (file: Found) => {
    const header = await readHeader(file.path)
    if (header?.kind !== Kind.entry) return false
    if (!header.key.subarray(0, prefix.length).equals(prefix)) return false
    return removeIfExists(file.path)
  }
  for await (const gone of mapEntries(directory, remove)) if (gone) removed++
  return removed
}

/** Where the keys are and how to read them, for `listKeys`. */
export interface Listing {
  readonly directory: string
  readonly fanOut: boolean
  readonly now: () => number
  /** The caller's key for a stored key, or `undefined` when it is not one of the caller's. */
  readonly unscope: (stored: string) => string | undefined
}

/**
 * The caller's keys of the live entries in the directory. Each file's header gives its stored
 * key and expiry; a candidate is then checked whole as `get` would check it: checksum, a name
 * that is the hash of its key, not expired. Anything else is skipped.
 */
export async function* listKeys(listing: Listing): AsyncGenerator<string> {
  for await (const key of mapEntries(listing.directory, (file) => liveKey(listing, file))) {
    if (key !== undefined) yield key
  }
}

async function liveKey(listing: Listing, file: Found): Promise<string | undefined> {
  const { directory, fanOut, now, unscope } = listing
  const head = await readHead(file.path)
  const header = head?.header
  if (header?.kind !== Kind.entry || isExpired(header.expiresAt, now())) return undefined
  const stored = header.key.toString('utf8')
  // Bytes that are not the UTF-8 of a string were never written by a FileStore.
  if (!Buffer.from(stored).equals(header.key)) return undefined
  const key = unscope(stored)
  if (key === undefined || keyPath(directory, fanOut, header.key) !== file.path) return undefined
  const bytes = head?.whole ?? (await readIfExists(file.path))
  const decoded = bytes === undefined ? undefined : decodeFile(bytes, Kind.entry, header.key)
  return decoded !== undefined && !isExpired(decoded.expiresAt, now()) ? key : undefined
}

/**
 * Removes expired and unreadable entries and temporaries abandoned by dead writers; resolves
 * how many files went. Lock state files stay: they carry the fencing counters.
 */
export async function pruneDirectory(directory: string, now: () => number): Promise<number> {
  let removed = 0
  for await (const file of files(directory)) {
    if (isEntryName(file.name)) {
      const header = await readHeader(file.path).catch(() => undefined)
      if (header !== undefined && !isExpired(header.expiresAt, now())) continue
      const dead = (bytes: Buffer) => {
        const key = decodeHeader(bytes)?.key
        const decoded = key === undefined ? undefined : decodeFile(bytes, Kind.entry, key)
        return decoded === undefined || isExpired(decoded.expiresAt, now())
      }
      if (await discard(file.path, dead)) removed++
    } else if (file.name.endsWith(TEMP_SUFFIX)) {
      const info = await stat(file.path).catch(() => undefined)
      if (info !== undefined && Date.now() - info.mtimeMs > ABANDONED_TEMP_MS) {
        if (await removeIfExists(file.path).catch(() => false)) removed++
      }
    }
  }
  return removed
}
