// Reads what a new user copies from a package README: the install commands (every `npm install`
// line of the first sh block that has one, and of each later block marked `# or …` as another
// way to install) and the first ```ts sample, split into its import
// declarations and the code after them, with README line numbers kept for error reports.
import { builtinModules } from 'node:module'
import ts from 'typescript'

/** A fenced block: its first content line (1-based README line) and its lines. */
function blocks(text) {
  const found = []
  let open
  text.split('\n').forEach((line, index) => {
    const fence = /^```(\w*)\s*$/.exec(line)
    if (open === undefined && fence) {
      open = { lang: fence[1], start: index + 2, lines: [] }
    } else if (open !== undefined && /^```\s*$/.test(line)) {
      found.push(open)
      open = undefined
    } else if (open !== undefined) {
      open.lines.push(line)
    }
  })
  return found
}

/** The README's `npm install …` commands, comments stripped, with their line numbers. */
export function installLines(text) {
  const block = blocks(text).find(
    (b) => ['sh', 'bash', 'shell', ''].includes(b.lang) && b.lines.some(isInstall),
  )
  return block ? commands(block) : []
}

/**
 * Alternative install commands: each later sh block whose first line is a comment starting with
 * `# or` (say `# or, to stay on ioredis 5`) is another way to install the package. The check
 * runs each one in a scratch project of its own with the same sample. One entry per block:
 * `{ line, note, lines }` (the comment's README line and text, the block's install commands).
 */
export function alternativeInstalls(text) {
  const shell = blocks(text).filter(
    (b) => ['sh', 'bash', 'shell', ''].includes(b.lang) && b.lines.some(isInstall),
  )
  return shell
    .slice(1)
    .filter((b) => /^#\s*or\b/i.test(b.lines[0].trim()))
    .map((b) => ({
      line: b.start,
      note: b.lines[0].trim().replace(/^#\s*/, ''),
      lines: commands(b),
    }))
}

/** A block's install commands, trailing comments stripped, with their README lines. */
function commands(block) {
  return block.lines
    .map((line, i) => ({ line: block.start + i, command: line.replace(/\s+#.*$/, '').trim() }))
    .filter((entry) => isInstall(entry.command))
}

function isInstall(line) {
  return /^npm (install|i|add)\b/.test(line.trim())
}

/** The arguments after `npm install` (no shell quoting is used in our READMEs). */
export function installArgs(command) {
  return command.split(/\s+/).slice(2)
}

/** The package name of an install argument (`zod@4`, `@cellar/core`, `-D` → undefined). */
export function argName(arg) {
  if (arg.startsWith('-')) return undefined
  const match = /^(@[^/@]+\/[^@]+|[^@]+)/.exec(arg)
  return match?.[1]
}

/** The bare package a specifier imports from (`node:fs`, relative paths → undefined). */
function packageOf(specifier) {
  if (specifier.startsWith('.') || specifier.startsWith('/')) return undefined
  if (specifier.startsWith('node:') || builtinModules.includes(specifier)) return undefined
  const parts = specifier.split('/')
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]
}

/**
 * The first ```ts block: `start` is its first README line; `imports` lists the packages (and
 * relative files) it imports, `names` the named imports per specifier; `bodyLine` is the index
 * (0-based, in the block) of the first line after the imports.
 */
export function firstSample(text) {
  const block = blocks(text).find((b) => b.lang === 'ts' || b.lang === 'typescript')
  if (!block) return undefined
  const source = block.lines.join('\n')
  const file = ts.createSourceFile('sample.mts', source, ts.ScriptTarget.ES2022, true)
  const imports = []
  const names = {}
  let bodyLine = block.lines.length
  for (const statement of file.statements) {
    const line = file.getLineAndCharacterOfPosition(statement.getStart(file)).line
    if (ts.isImportDeclaration(statement)) {
      const bindings = statement.importClause?.namedBindings
      if (bindings && ts.isNamedImports(bindings)) {
        names[statement.moduleSpecifier.text] = bindings.elements.map((e) => e.name.text)
      }
      const name = packageOf(statement.moduleSpecifier.text)
      if (name && !imports.includes(name)) imports.push(name)
      if (!name && !statement.moduleSpecifier.text.startsWith('node:')) {
        imports.push(statement.moduleSpecifier.text)
      }
    } else if (bodyLine === block.lines.length) {
      bodyLine = line
    }
  }
  return { start: block.start, lines: block.lines, imports, names, bodyLine }
}

/** The sample as an ES module: the block as it is (top-level await included). */
export function esmSource(sample) {
  return `${sample.lines.join('\n')}\n`
}

/**
 * The sample as CommonJS, line for line: imports stay at the top (TypeScript turns them into
 * `require`), the code after them runs inside an async function so top-level await still works.
 */
export function cjsSource(sample) {
  const lines = [...sample.lines]
  if (sample.bodyLine < lines.length) {
    lines[sample.bodyLine] = `async function main(): Promise<void> { ${lines[sample.bodyLine]}`
  }
  lines.push(
    sample.bodyLine < lines.length ? '}' : 'async function main(): Promise<void> {}',
    'main().catch((error: unknown) => {',
    '  console.error(error)',
    '  process.exitCode = 1',
    '})',
  )
  return `${lines.join('\n')}\n`
}
