// How samples are type-checked: with the repository's own TypeScript and @types/node (the
// versions a user of ours would pick), so the scratch project installs nothing but the README's
// line; where the tsc binary lives does not change how the project's modules resolve.
import { join } from 'node:path'

/** The command that type-checks the project in the current directory. */
export function tscCommand(root) {
  return ['node', [join(root, 'node_modules/typescript/bin/tsc'), '-p', '.', '--pretty', 'false']]
}

/** Compiler options every sample is checked with (a strict, current Node project). */
export function compilerOptions(root) {
  return {
    target: 'ES2022',
    lib: ['ES2022'],
    module: 'NodeNext',
    moduleResolution: 'NodeNext',
    typeRoots: [join(root, 'node_modules/@types')],
    types: ['node'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: false,
  }
}

const DIAGNOSTIC = /^(.+?)\(\d+,\d+\): error (TS\d+):/

/**
 * tsc's errors split by where they are: `ours` (the sample, our packages' declarations, or
 * anything not tied to a file) and `foreign` (another package's own declarations under
 * node_modules, e.g. a dependency whose .d.ts imports an untyped module). A foreign error meets
 * every user of that package whatever our packages do, so it is reported, not failed on.
 */
export function splitErrors(output) {
  const ours = []
  const foreign = []
  let current
  for (const line of output.split('\n')) {
    const match = DIAGNOSTIC.exec(line)
    if (match !== null) {
      const file = (match[1] ?? '').replaceAll('\\', '/')
      const at = file.lastIndexOf('node_modules/')
      const isForeign = at !== -1 && !file.slice(at).startsWith('node_modules/@cellar/')
      current = isForeign ? foreign : ours
      current.push(line)
    } else if (line.trim() !== '') {
      ;(current ?? ours).push(line)
    }
  }
  return { ours, foreign }
}

/** The packages whose declarations the foreign errors are in, with the error codes. */
export function foreignPackages(foreign) {
  const names = new Set()
  for (const line of foreign) {
    const diagnostic = DIAGNOSTIC.exec(line)
    const where = /node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(line.replaceAll('\\', '/'))
    if (diagnostic !== null && where !== null) names.add(`${where[1]} ${diagnostic[2]}`)
  }
  return [...names].join(', ')
}

/**
 * Whether a tsc run fails the check: any error of ours, or a non-zero exit with no error tied
 * to another package. Errors in other packages' declarations become a `step` note instead.
 */
export function tscFails(tsc, step) {
  const { ours, foreign } = splitErrors(tsc.output)
  if (foreign.length > 0) {
    const where = foreignPackages(foreign)
    step('tsc', 0, `not failed on: errors in other packages' own declarations (${where})`)
  }
  return tsc.code !== 0 && (ours.length > 0 || foreign.length === 0)
}
