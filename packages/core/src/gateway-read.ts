import type { DecodedEntry, ValueCodec } from './codec.js'
import { type CellarError, SchemaError } from './errors.js'
import type { CacheEvent, CacheEventListener, CacheOperation } from './events.js'
import type { StandardSchemaV1 } from './standard-schema.js'

/** What a typed read hands back: the value alone, or the value with its metadata. */
export type Read = 'value' | 'entry'

/**
 * The listeners of one gateway and the store name its events carry. A listener that throws
 * never breaks the operation it observes.
 */
export class GatewayEvents {
  readonly listeners: CacheEventListener[] = []
  readonly store: string

  constructor(store: string) {
    this.store = store
  }

  emit(event: CacheEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event)
      } catch {
        // A listener must not break the cache operation it observes.
      }
    }
  }

  fail(operation: CacheOperation, key: string | undefined, error: CellarError): void {
    this.emit({ type: 'error', key, error, operation, store: this.store })
  }
}

/**
 * The one read path of every typed read: a miss, a value, an entry, or (async schema) a promise
 * of one. Decoding and schema failures are misses plus an error event; a schema that throws
 * throws.
 */
export function readStored(
  events: GatewayEvents,
  codec: ValueCodec,
  key: string,
  stored: unknown,
  schema: StandardSchemaV1 | undefined,
  read: Read,
  operation: CacheOperation,
): unknown {
  if (stored === undefined) {
    if (events.listeners.length !== 0)
      events.emit({ type: 'miss', key, operation, store: events.store })
    return undefined
  }
  let entry: DecodedEntry | undefined
  let value: unknown
  try {
    if (read === 'entry') {
      entry = codec.decodeEntry(key, stored)
      value = entry.value
    } else {
      value = codec.decode(key, stored)
    }
  } catch (error) {
    events.fail(operation, key, error as CellarError)
    return undefined
  }
  if (schema === undefined) {
    if (events.listeners.length !== 0)
      events.emit({ type: 'hit', key, operation, store: events.store })
    return entry ?? value
  }
  const result = schema['~standard'].validate(value)
  return result instanceof Promise
    ? result.then((settled) => checked(events, key, settled, entry, operation))
    : checked(events, key, result, entry, operation)
}

function checked(
  events: GatewayEvents,
  key: string,
  result: StandardSchemaV1.Result<unknown>,
  entry: DecodedEntry | undefined,
  operation: CacheOperation,
): unknown {
  if (result.issues !== undefined) {
    const issues = result.issues.map((issue) => issue.message)
    events.fail(
      operation,
      key,
      new SchemaError(`[cellar] value for key "${key}" failed its schema: ${issues.join('; ')}`, {
        key,
        issues,
      }),
    )
    return undefined
  }
  events.emit({ type: 'hit', key, operation, store: events.store })
  return entry === undefined ? result.value : { value: result.value, meta: entry.meta }
}

/**
 * A read without a schema. On a raw store with no listener there is no event to emit and nothing
 * that can fail: the stored value (unwrapped from its metadata, if any), without `readStored`,
 * which is too large for V8 to inline into a caller.
 */
export function readPlain(
  events: GatewayEvents,
  codec: ValueCodec,
  key: string,
  stored: unknown,
): unknown {
  if (codec.raw && events.listeners.length === 0) return codec.decode(key, stored)
  return readStored(events, codec, key, stored, undefined, 'value', 'get')
}
