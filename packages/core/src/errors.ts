/**
 * The codes core itself raises. Other packages declare their own (`E_UNKNOWN_STORE`,
 * `E_LOADER_TIMEOUT`, …) as string literals on `CellarError` subclasses, without editing core.
 */
export type CoreErrorCode =
  | 'E_INVALID_KEY'
  | 'E_INVALID_ARGUMENT'
  | 'E_VALUE_TOO_LARGE'
  | 'E_NOT_A_NUMBER'
  | 'E_SERIALIZATION'
  | 'E_SCHEMA'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_STORE_CLOSED'
  | 'E_LOCK_TIMEOUT'
  | 'E_LOCK_NOT_OWNED'
  | 'E_UNSUPPORTED'

/**
 * Any cellar error code: core's, or another package's `E_SCREAMING_SNAKE` literal. The
 * `string & {}` keeps editor completion for core's codes while leaving the set open.
 */
export type CellarErrorCode = CoreErrorCode | (string & {})

export interface CellarErrorOptions {
  /** The key (or lock name) the failed operation was about. */
  key?: string | undefined
  /** The underlying error, e.g. the driver's. */
  cause?: unknown
}

/**
 * Base class of every error cellar throws: a stable `code`, an optional `key` and `cause`.
 * Messages start with `[cellar]` or `[cellar:<package or store>]`; tests match on `code`.
 */
export class CellarError<C extends CellarErrorCode = CellarErrorCode> extends Error {
  readonly code: C
  readonly key: string | undefined

  constructor(code: C, message: string, options: CellarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.key = options.key
  }
}

/** A key broke a key rule (empty, not a string, malformed UTF-16, too long for the store). */
export class InvalidKeyError extends CellarError<'E_INVALID_KEY'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_INVALID_KEY', message, options)
  }
}

/**
 * An argument broke a rule: a bad TTL or delta (`E_INVALID_ARGUMENT`), a value over the store's
 * size limit (`E_VALUE_TOO_LARGE`), or `increment` on a value that is not an integer counter or
 * past the safe-integer range (`E_NOT_A_NUMBER`).
 */
export class InvalidArgumentError extends CellarError<
  'E_INVALID_ARGUMENT' | 'E_VALUE_TOO_LARGE' | 'E_NOT_A_NUMBER'
> {
  constructor(
    message: string,
    options: CellarErrorOptions & {
      code?: 'E_INVALID_ARGUMENT' | 'E_VALUE_TOO_LARGE' | 'E_NOT_A_NUMBER'
    } = {},
  ) {
    super(options.code ?? 'E_INVALID_ARGUMENT', message, options)
  }
}

/** A value could not be encoded or decoded by the serializer. */
export class SerializationError extends CellarError<'E_SERIALIZATION'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_SERIALIZATION', message, options)
  }
}

/** A value decoded fine but failed the schema it was read with. */
export class SchemaError extends CellarError<'E_SCHEMA'> {
  /** What the validator said, one message per issue. */
  readonly issues: readonly string[]

  constructor(message: string, options: CellarErrorOptions & { issues?: readonly string[] } = {}) {
    super('E_SCHEMA', message, options)
    this.issues = options.issues ?? []
  }
}

/** The backend could not be reached or failed; the driver's error is the `cause`. */
export class BackendUnavailableError extends CellarError<'E_BACKEND_UNAVAILABLE'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_BACKEND_UNAVAILABLE', message, options)
  }
}

/** The store (or gateway) was used after `close()`. */
export class StoreClosedError extends CellarError<'E_STORE_CLOSED'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_STORE_CLOSED', message, options)
  }
}

/** `block()` gave up: the lock stayed held by someone else until the timeout. */
export class LockTimeoutError extends CellarError<'E_LOCK_TIMEOUT'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_LOCK_TIMEOUT', message, options)
  }
}

/** `release()`/`extend()` by an owner that no longer (or never) held the lock. */
export class LockNotOwnedError extends CellarError<'E_LOCK_NOT_OWNED'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_LOCK_NOT_OWNED', message, options)
  }
}

/** The store lacks a capability the operation needs (declared in `capabilities`). */
export class UnsupportedError extends CellarError<'E_UNSUPPORTED'> {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_UNSUPPORTED', message, options)
  }
}

/** True when `error` is a cellar error, optionally with the given code. */
export function isCellarError<C extends CellarErrorCode>(
  error: unknown,
  code?: C,
): error is CellarError<C> {
  return error instanceof CellarError && (code === undefined || error.code === code)
}

/** What `backendError` says about the failed operation. */
export interface BackendErrorContext {
  /** The store or package, as in `[cellar:<source>]`: `'redis'`, `'knex'`, … */
  readonly source: string
  /** The operation that failed: `'get'`, `'clear'`, `'lock acquire'`, … */
  readonly operation: string
  /** The key (or lock name) it was about, if any. */
  readonly key?: string | undefined
  /** A short explanation appended to the driver's message (an errno meaning, a hint). */
  readonly hint?: string | undefined
}

/**
 * The one way a store reports a failed backend call: a cellar error passes through unchanged;
 * anything else becomes `E_BACKEND_UNAVAILABLE` naming the source, operation and key, with
 * the driver's error as `cause` (a non-`Error` throw is wrapped in one first).
 */
export function backendError(error: unknown, context: BackendErrorContext): CellarError {
  if (error instanceof CellarError) return error
  const cause = error instanceof Error ? error : new Error(String(error))
  const about = context.key === undefined ? '' : ` "${context.key.slice(0, 64)}"`
  const hint = context.hint === undefined ? '' : ` (${context.hint})`
  return new BackendUnavailableError(
    `[cellar:${context.source}] ${context.operation}${about} failed: ${cause.message}${hint}`,
    { key: context.key, cause },
  )
}
