import { FileStore } from '../src/index.js'

/**
 * The conformance exit check's child: a FileStore as an application builds it (default sweep
 * timer), in the directory the test passes as CELLAR_EXIT_DIR.
 */
export function createStore(): FileStore {
  const directory = process.env.CELLAR_EXIT_DIR
  if (directory === undefined) throw new Error('[cellar:file test] CELLAR_EXIT_DIR is not set')
  return new FileStore({ directory, prefix: `exit-${process.pid}:` })
}
