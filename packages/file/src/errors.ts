import { backendError, type CellarError } from '@cellar/core'

const REASONS: Record<string, string> = {
  EROFS: 'the directory is on a read-only file system',
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted (immutable file or directory?)',
  EMFILE: 'too many open files in this process',
  ENFILE: 'too many open files on the system',
  ENOTDIR: 'a path component is not a directory',
  EIO: 'an I/O error from the device',
}

/** The `code` of a Node.js system error, if it has one. */
export function errorCode(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code
  return typeof code === 'string' ? code : undefined
}

/**
 * Core's `backendError` for a file-system failure: `E_BACKEND_UNAVAILABLE` with the fs error
 * as `cause` and what its errno means as the hint, so a read-only or full disk is obvious from
 * the message alone. A cellar error passes through unchanged.
 */
export function fileError(operation: string, error: unknown, key?: string): CellarError {
  const code = errorCode(error)
  const reason = code === undefined ? undefined : REASONS[code]
  const hint = code === undefined ? undefined : reason === undefined ? code : `${reason}, ${code}`
  return backendError(error, { source: 'file', operation, key, hint })
}
