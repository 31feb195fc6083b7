export type { CachedRepositoryOptions, ReadOptions } from './cached-repository.js'
export { CachedRepository } from './cached-repository.js'
export type { GenerationalErrorCode } from './errors.js'
export { GenerationalError } from './errors.js'
export type { RepositoryEvent, RepositoryEventListener, RepositoryReadKind } from './events.js'
export { canonical, shortHash, stableHash } from './hash.js'
export { entityKey, listKey, queryKey } from './keys.js'
export type {
  CursorPage,
  EntityId,
  ListResult,
  OffsetPage,
  Repository,
  WriteOptions,
} from './repository.js'
export type { DependencyResolver, GenerationalResolverOptions } from './resolver.js'
export { counterKey, GenerationalResolver, NO_TAGS_FINGERPRINT } from './resolver.js'
export type { DependencySpec } from './tags.js'
export {
  dependencyEntityTags,
  dependencyListTags,
  entityTags,
  listTags,
  parseDependencies,
  writeTags,
} from './tags.js'
export type { VersionTokenResolverOptions } from './tokens.js'
export { VersionTokenResolver } from './tokens.js'
