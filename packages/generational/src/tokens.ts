import { randomBytes } from 'node:crypto'
import { type CacheGateway, type Duration, InvalidArgumentError, parseDuration } from '@cellar/core'
import {
  compose,
  composeGroups,
  type DependencyResolver,
  distinctTags,
  NO_TAGS_FINGERPRINT,
} from './resolver.js'

/** Options of `new VersionTokenResolver(tokens, options)`. */
export interface VersionTokenResolverOptions {
  /**
   * How long this process may reuse a token it read, so that other processes' bumps are seen
   * at most this late. Must be finite; 0 reads the store on every use. A bump made by this
   * process is seen by it at once.
   * @default 0
   */
  memoize?: Duration
}

const TOKEN_KEY_PREFIX = 'version:'
const EPOCH_KEY = 'version-epoch'

function newToken(): string {
  return randomBytes(12).toString('base64url')
}

/**
 * Version tokens for stores without atomic counters: each tag has a random token, replaced by a
 * new random one on `bump` (a plain write, so concurrent bumps cannot cancel out). Tokens are
 * read from the store on each use, or reused for at most `memoize` — never forever. A missing
 * token is created at a random value on read, so a token lost to eviction never matches an old
 * one.
 */
export class VersionTokenResolver implements DependencyResolver {
  readonly #tokens: CacheGateway
  readonly #memoizeMs: number
  readonly #memo = new Map<string, { token: string; until: number }>()

  constructor(tokens: CacheGateway, options: VersionTokenResolverOptions = {}) {
    const memoize = options.memoize === undefined ? 0 : parseDuration(options.memoize)
    if (!Number.isFinite(memoize) || memoize < 0) {
      throw new InvalidArgumentError(
        '[cellar:generational] memoize must be a finite duration (0 reads tokens on every use)',
      )
    }
    this.#tokens = tokens
    this.#memoizeMs = memoize
  }

  async fingerprint(tags: readonly string[]): Promise<string> {
    if (tags.length === 0) return NO_TAGS_FINGERPRINT
    const tokens = await this.#read([EPOCH_KEY, ...tags.map((tag) => TOKEN_KEY_PREFIX + tag)])
    return compose(tokens[0]!, tags, tokens.slice(1))
  }

  async fingerprintMany(groups: ReadonlyArray<readonly string[]>): Promise<string[]> {
    const at = distinctTags(groups)
    if (at.size === 0) return groups.map(() => NO_TAGS_FINGERPRINT)
    const tokens = await this.#read([
      EPOCH_KEY,
      ...[...at.keys()].map((tag) => TOKEN_KEY_PREFIX + tag),
    ])
    return composeGroups(tokens[0]!, groups, at, tokens.slice(1))
  }

  async bump(tags: readonly string[]): Promise<void> {
    const keys = [...new Set(tags)].map((tag) => TOKEN_KEY_PREFIX + tag)
    for (const key of keys) this.#memo.delete(key)
    await this.#tokens.multiSetValues(
      keys.map((key) => [key, newToken()]),
      null,
    )
    for (const key of keys) this.#memo.delete(key)
  }

  async #read(keys: readonly string[]): Promise<string[]> {
    const now = this.#memoizeMs > 0 ? Date.now() : 0
    const tokens = new Array<string>(keys.length)
    const wanted: number[] = []
    for (let i = 0; i < keys.length; i++) {
      const memo = this.#memoizeMs > 0 ? this.#memo.get(keys[i]!) : undefined
      if (memo !== undefined && memo.until > now) tokens[i] = memo.token
      else wanted.push(i)
    }
    if (wanted.length === 0) return tokens
    const read = await this.#tokens.multiGetValues(wanted.map((i) => keys[i]!))
    for (let j = 0; j < wanted.length; j++) {
      const key = keys[wanted[j]!]!
      const value = read[j]
      tokens[wanted[j]!] = typeof value === 'string' ? value : await this.#create(key)
    }
    if (this.#memoizeMs > 0) {
      const until = now + this.#memoizeMs
      for (const i of wanted) this.#memo.set(keys[i]!, { token: tokens[i]!, until })
    }
    return tokens
  }

  // A missing token (never bumped, or lost): a random one, so it never equals a lost value.
  async #create(key: string): Promise<string> {
    const token = newToken()
    if (await this.#tokens.addValue(key, token, null)) return token
    const winner = await this.#tokens.getValue(key)
    return typeof winner === 'string' ? winner : token
  }
}
