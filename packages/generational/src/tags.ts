import { generationalError } from './errors.js'

/** A parsed `"child:fk"` dependency: the entity depends on rows of `entity` through `foreignKey`. */
export interface DependencySpec {
  /** The child entity whose writes invalidate the parent's entries. */
  readonly entity: string
  /** The child's column that points at the parent's id. */
  readonly foreignKey: string
}

/** Tags an entity-by-id entry depends on: the entity name and `"<entity>:id:<id>"`. */
export function entityTags(entity: string, id?: string | number | null): string[] {
  return id === undefined || id === null ? [entity] : [entity, `${entity}:id:${id}`]
}

/** Tags a list or query entry depends on: the entity, its lists, and its filter's hash. */
export function listTags(entity: string, filterHash: string): string[] {
  return [entity, `${entity}:list`, `${entity}:list:filters:${filterHash}`]
}

/** Tags one write of an entity bumps: the entity, its lists, and each written id. */
export function writeTags(entity: string, ids: ReadonlyArray<string | number>): string[] {
  return [entity, `${entity}:list`, ...ids.map((id) => `${entity}:id:${id}`)]
}

/**
 * Parses `"child:fk"` specs (the child entity, then the column of the child pointing at this
 * entity). Throws `E_INVALID_DEPENDENCY` on anything else: no colon, an empty side, whitespace.
 */
export function parseDependencies(specs: readonly string[]): DependencySpec[] {
  if (!Array.isArray(specs)) {
    throw generationalError('E_INVALID_DEPENDENCY', 'dependsOn must be an array of "child:fk"')
  }
  const parsed = new Map<string, DependencySpec>()
  for (const spec of specs) {
    const at = typeof spec === 'string' ? spec.indexOf(':') : -1
    const entity = at === -1 ? '' : spec.slice(0, at)
    const foreignKey = at === -1 ? '' : spec.slice(at + 1)
    if (!isName(entity) || !isName(foreignKey)) {
      throw generationalError(
        'E_INVALID_DEPENDENCY',
        `dependency spec ${JSON.stringify(spec)} is malformed: expected "<child entity>:<foreign key>"`,
      )
    }
    parsed.set(spec, { entity, foreignKey })
  }
  return [...parsed.values()]
}

function isName(text: string): boolean {
  return text.length > 0 && !/[\s:]/.test(text)
}

/** Tags a list of the parent adds for its dependencies: each child and its lists. */
export function dependencyListTags(dependencies: readonly DependencySpec[]): string[] {
  return dependencies.flatMap((dep) => [dep.entity, `${dep.entity}:list`])
}

/** Tags one parent entity adds for its dependencies: each child, its lists, its rows of this id. */
export function dependencyEntityTags(
  dependencies: readonly DependencySpec[],
  id: string | number,
): string[] {
  return dependencies.flatMap((dep) => [
    dep.entity,
    `${dep.entity}:list`,
    `${dep.entity}:${dep.foreignKey}:${id}`,
  ])
}
