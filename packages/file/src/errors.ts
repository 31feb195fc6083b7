import { BackendUnavailableError } from '@cellar/core'

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
 * Wraps a file-system error as `E_BACKEND_UNAVAILABLE`, keeping it as `cause` and naming the
 * errno in the message so a read-only or full disk is obvious from the text alone.
 */
export function backendError(
  action: string,
  error: unknown,
  key?: string,
): BackendUnavailableError {
  const code = errorCode(error)
  const reason =
    (code !== undefined && REASONS[code]) ||
    (error instanceof Error ? error.message : String(error))
  const about = key === undefined ? '' : ` for key "${key.slice(0, 64)}"`
  return new BackendUnavailableError(
    `[cellar:file] ${action}${about} failed: ${reason}${code === undefined ? '' : ` (${code})`}`,
    { key, cause: error },
  )
}
