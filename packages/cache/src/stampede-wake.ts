import type { Bus } from '@cellar/core'

/** A waiter's ear for one key: `rung` resolves when the key is announced. */
export interface Alarm {
  readonly rung: Promise<void>
  /** Stops listening (call it once the waiter is done, rung or not). */
  off(): void
}

/**
 * Wakes the processes waiting on a `remember` lock: the leader announces the key on a bus once
 * its value is written (or its lock is released), and every waiter of that key in this process
 * looks at the store at once instead of at its next poll. One subscription per bus and channel,
 * shared by every cache of the process; it lasts as long as the bus (closing the bus ends it).
 */
export class Wakeups {
  /** True once subscribed; false if subscribing failed (the waiters then only poll). */
  readonly ready: Promise<boolean>
  readonly #bus: Bus
  readonly #channel: string
  readonly #waiters = new Map<string, Set<() => void>>()

  private constructor(bus: Bus, channel: string) {
    this.#bus = bus
    this.#channel = channel
    this.ready = bus
      .subscribe(channel, (key) => this.#ring(key))
      .then(
        () => true,
        () => {
          // Forgotten, so a later `remember` tries to subscribe again.
          Wakeups.#all.get(bus)?.delete(channel)
          return false
        },
      )
  }

  static readonly #all = new WeakMap<Bus, Map<string, Wakeups>>()

  /** The wake-ups of `channel` on `bus`, subscribed on first use. */
  static of(bus: Bus, channel: string): Wakeups {
    let channels = Wakeups.#all.get(bus)
    if (channels === undefined) {
      channels = new Map()
      Wakeups.#all.set(bus, channels)
    }
    let wakeups = channels.get(channel)
    if (wakeups === undefined) {
      wakeups = new Wakeups(bus, channel)
      channels.set(channel, wakeups)
    }
    return wakeups
  }

  /** Listens for `key`; set it before trying the lock, so an announcement in between is not missed. */
  alarm(key: string): Alarm {
    let ring!: () => void
    const rung = new Promise<void>((resolve) => {
      ring = resolve
    })
    let set = this.#waiters.get(key)
    if (set === undefined) {
      set = new Set()
      this.#waiters.set(key, set)
    }
    set.add(ring)
    return {
      rung,
      off: () => {
        const current = this.#waiters.get(key)
        if (current?.delete(ring) && current.size === 0) this.#waiters.delete(key)
      },
    }
  }

  /** Tells every process waiting on `key` to look again; a lost message only costs them a poll. */
  announce(key: string): void {
    this.#bus.publish(this.#channel, key).catch(() => {})
  }

  #ring(key: string): void {
    const set = this.#waiters.get(key)
    if (set === undefined) return
    this.#waiters.delete(key)
    for (const ring of set) ring()
  }
}

/** Resolves after `ms`, or as soon as `alarm` rings. */
export function nap(ms: number, alarm: Alarm | undefined): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(resolve, ms)
    alarm?.rung.then(() => {
      clearTimeout(timer)
      resolve()
    })
  })
}
