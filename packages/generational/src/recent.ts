/**
 * The fingerprint each key base (a key without its fingerprint) had when this process last
 * read it, used only as a guess: a read fetches the entry under the guessed fingerprint
 * together with the counters, and keeps it only when the counters give that same fingerprint.
 * A wrong or forgotten guess costs one more read, never a stale entry. Bounded: the least
 * recently read base is forgotten first.
 */
export class RecentFingerprints {
  readonly #bases = new Map<string, string>()
  readonly #limit: number

  constructor(limit: number) {
    this.#limit = limit
  }

  /** The last fingerprint seen for `base`, if remembered. */
  get(base: string): string | undefined {
    return this.#bases.get(base)
  }

  /** Remembers `fingerprint` as the latest for `base`. */
  set(base: string, fingerprint: string): void {
    const map = this.#bases
    // Map keeps insertion order: re-inserting moves the base to the newest end.
    map.delete(base)
    map.set(base, fingerprint)
    if (map.size > this.#limit) map.delete(map.keys().next().value!)
  }
}
