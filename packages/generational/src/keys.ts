import type { EntityId } from './repository.js'

// Every variable part is percent-encoded, so no `:` inside a name can shift the fields.
function part(text: string): string {
  return encodeURIComponent(text)
}

function idPart(id: EntityId): string {
  return typeof id === 'number' ? `n${id}` : `s${part(id)}`
}

/** `e:<entity>:<bind group>:<id>:<fingerprint>` — one entity by id. */
export function entityKey(entity: string, bindGroup: string, id: EntityId, fingerprint: string) {
  return entityKeyIn(entityKeyPrefix(entity, bindGroup), id, fingerprint)
}

/** The part of `entityKey` shared by every entity of one bind group (internal). */
export function entityKeyPrefix(entity: string, bindGroup: string): string {
  return `e:${part(entity)}:${part(bindGroup)}:`
}

/** `entityKey` from its shared prefix (internal). */
export function entityKeyIn(prefix: string, id: EntityId, fingerprint: string): string {
  return `${prefix}${idPart(id)}:${fingerprint}`
}

/** `l:<entity>:<bind group>:<hash of filters and page>:<fingerprint>` — a list page's ids. */
export function listKey(entity: string, bindGroup: string, hash: string, fingerprint: string) {
  return `l:${part(entity)}:${part(bindGroup)}:${hash}:${fingerprint}`
}

/** `q:<entity>:<bind group>:<name>:<hash of args>:<fingerprint>` — a named query's result. */
export function queryKey(
  entity: string,
  bindGroup: string,
  name: string,
  hash: string,
  fingerprint: string,
) {
  return `q:${part(entity)}:${part(bindGroup)}:${part(name)}:${hash}:${fingerprint}`
}
