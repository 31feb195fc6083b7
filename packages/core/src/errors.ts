/** Stable codes carried by every cellar error; tests and callers match on these, not on text. */
export type CellarErrorCode =
  | 'E_INVALID_KEY'
  | 'E_INVALID_ARGUMENT'
  | 'E_VALUE_TOO_LARGE'
  | 'E_NOT_A_NUMBER'
  | 'E_SERIALIZATION'
  | 'E_BACKEND_UNAVAILABLE'
  | 'E_STORE_CLOSED'
  | 'E_LOCK_TIMEOUT'
  | 'E_LOCK_NOT_OWNED'
  | 'E_UNSUPPORTED'

export interface CellarErrorOptions {
  /** The key (or lock name) the failed operation was about. */
  key?: string | undefined
  /** The underlying error, e.g. the driver's. */
  cause?: unknown
}

/** Base class of every error cellar throws: a stable `code`, an optional `key` and `cause`. */
export class CellarError extends Error {
  readonly code: CellarErrorCode
  readonly key: string | undefined

  constructor(code: CellarErrorCode, message: string, options: CellarErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause })
    this.name = new.target.name
    this.code = code
    this.key = options.key
  }
}

/** A key broke a key rule (empty, not a string, too long for the store). */
export class InvalidKeyError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_INVALID_KEY', message, options)
  }
}

/**
 * An argument broke a rule: a bad TTL or delta (`E_INVALID_ARGUMENT`), a value over the store's
 * size limit (`E_VALUE_TOO_LARGE`), or `increment` on a value that is not an integer
 * (`E_NOT_A_NUMBER`).
 */
export class InvalidArgumentError extends CellarError {
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
export class SerializationError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_SERIALIZATION', message, options)
  }
}

/** The backend could not be reached or failed; the driver's error is the `cause`. */
export class BackendUnavailableError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_BACKEND_UNAVAILABLE', message, options)
  }
}

/** The store (or gateway) was used after `close()`. */
export class StoreClosedError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_STORE_CLOSED', message, options)
  }
}

/** `block()` gave up: the lock stayed held by someone else until the timeout. */
export class LockTimeoutError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_LOCK_TIMEOUT', message, options)
  }
}

/** `release()`/`extend()` by an owner that no longer (or never) held the lock. */
export class LockNotOwnedError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_LOCK_NOT_OWNED', message, options)
  }
}

/** The store lacks a capability the operation needs (declared in `capabilities`). */
export class UnsupportedError extends CellarError {
  constructor(message: string, options: CellarErrorOptions = {}) {
    super('E_UNSUPPORTED', message, options)
  }
}

/** True when `error` is a cellar error, optionally with the given code. */
export function isCellarError(error: unknown, code?: CellarErrorCode): error is CellarError {
  return error instanceof CellarError && (code === undefined || error.code === code)
}
