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
  return `e:${part(entity)}:${part(bindGroup)}:${idPart(id)}:${fingerprint}`
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
