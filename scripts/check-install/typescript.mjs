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
