import assert from 'node:assert/strict'
import type { RateLimitAlgorithm } from '@cellar/core'
import { assertRejectsWithCode, randomKey, sleep } from '../helpers.js'
import type { TestFunction, TestRunner } from '../types.js'
import { consumeFromProcesses } from './limiter-processes.js'
import type {
  LimiterFactory,
  LimiterHarness,
  LimiterResultLike,
  LimiterSpec,
  LimiterSuiteOptions,
} from './limiter-types.js'

const ALL: readonly RateLimitAlgorithm[] = ['fixed-window', 'sliding-window', 'token-bucket']
const TIMEOUT = 60_000

const spec = (algorithm: RateLimitAlgorithm, limit: number, windowMs: number, blockMs = 0) =>
  ({ algorithm, limit, windowMs, blockMs }) satisfies LimiterSpec

// Lets `ms` pass: on the harness clock when it has one, else for real (with slack for the
// backend's expiry and a loaded machine: only ever later, never earlier).
async function pass(harness: LimiterHarness, ms: number): Promise<void> {
  if (harness.advance !== undefined) harness.advance(ms)
  else await sleep(ms + 60)
}

type Consumer = { consume(key: string): Promise<LimiterResultLike> }

// The first consume of a fresh key, taken early enough in its window that the next consume
// lands in the same one: a clock-aligned window (memcached's fallback) may otherwise roll over
// between two calls on a loaded machine and allow the second.
async function firstInWindow(
  limiter: Consumer,
  prefix: string,
  windowMs: number,
): Promise<{ key: string; result: LimiterResultLike }> {
  for (let attempt = 0; ; attempt++) {
    const key = randomKey(prefix)
    const result = await limiter.consume(key)
    if (result.resetMs >= windowMs / 2 || attempt === 9) return { key, result }
    // Late in an aligned window: retrying at once would land in the same one, so wait it out.
    await sleep(result.resetMs + 1)
  }
}

const allowedCount = (results: readonly LimiterResultLike[]) =>
  results.filter((r) => r.allowed).length

function assertSane(result: LimiterResultLike, what: string): void {
  assert.ok(result.remaining >= 0, `${what}: remaining ${result.remaining} is negative`)
  assert.ok(result.resetMs >= 0, `${what}: resetMs ${result.resetMs} is negative`)
  assert.ok(result.retryAfterMs >= 0, `${what}: retryAfterMs ${result.retryAfterMs} is negative`)
  if (!result.allowed) assert.ok(result.retryAfterMs > 0, `${what}: refused with retryAfterMs 0`)
}

/**
 * The rate-limiter conformance suite: exact counts, resets, concurrency (in process and, with
 * `options.processes`, from 4 processes), expiry of every stored entry, blocks, refill, bad input.
 * `factory` builds a harness whose `limiter(spec)` is a limiter over the store under test.
 */
export function describeLimiter(
  runner: TestRunner,
  factory: LimiterFactory,
  options: LimiterSuiteOptions = {},
): void {
  const algorithms = options.algorithms ?? ALL
  const it = (title: string, body: (harness: LimiterHarness) => Promise<void>) => {
    const fn: TestFunction = async () => {
      const harness = await factory()
      try {
        await body(harness)
      } finally {
        await harness.close()
      }
    }
    runner.test(title, fn, TIMEOUT)
  }

  runner.describe(options.name ?? 'rate limiter', () => {
    for (const algorithm of algorithms) {
      runner.describe(algorithm, () => {
        // The weighted sliding window counts the previous window's points until the current one
        // ends, so its wait can reach two windows; the others wait at most one.
        const reach = algorithm === 'sliding-window' ? 2 : 1
        it('allows exactly the limit, then refuses with retryAfterMs in (0, window] (sliding: 2 windows)', async (h) => {
          const limiter = h.limiter(spec(algorithm, 3, 60_000))
          const key = randomKey('limit')
          const results = []
          for (let i = 0; i < 4; i++) results.push(await limiter.consume(key))
          assert.deepEqual(
            results.map((r) => r.allowed),
            [true, true, true, false],
          )
          assert.deepEqual(
            results.slice(0, 3).map((r) => r.remaining),
            [2, 1, 0],
          )
          const refused = results[3] as LimiterResultLike
          assert.equal(refused.remaining, 0)
          assert.equal(refused.limit, 3)
          assert.ok(
            refused.retryAfterMs > 0 && refused.retryAfterMs <= reach * 60_000,
            `retryAfterMs ${refused.retryAfterMs} should be in (0, ${reach * 60_000}]`,
          )
          for (const r of results) assertSane(r, 'consume')
        })

        it('allows again once the window has passed', async (h) => {
          const limiter = h.limiter(spec(algorithm, 2, 300))
          const { key } = await firstInWindow(limiter, 'reset', 300)
          await limiter.consume(key)
          const refused = await limiter.consume(key)
          assert.equal(refused.allowed, false)
          await pass(h, refused.retryAfterMs)
          assert.equal((await limiter.consume(key)).allowed, true, 'allowed after the wait')
        })

        it('100 concurrent consumes with limit 10: exactly 10 allowed', async (h) => {
          const limiter = h.limiter(spec(algorithm, 10, 60_000))
          const key = randomKey('race')
          const results = await Promise.all(Array.from({ length: 100 }, () => limiter.consume(key)))
          assert.equal(allowedCount(results), 10)
          for (const r of results) assertSane(r, 'concurrent consume')
        })

        const { processes } = options
        const skipProcesses = processes === undefined ? runner.test.skip : undefined
        const title = '4 processes × 25 concurrent consumes with limit 10: exactly 10 allowed'
        if (skipProcesses !== undefined) skipProcesses(title, () => {})
        else if (processes !== undefined) {
          it(title, async () => {
            const counts = await consumeFromProcesses(
              processes,
              spec(algorithm, 10, 60_000),
              randomKey('fork'),
              4,
              25,
            )
            assert.equal(
              counts.reduce((a, b) => a + b, 0),
              10,
              `allowed per process: ${counts.join(', ')}`,
            )
          })
        }

        it('a 300 ms window really expires, and every stored entry has an expiry', async (h) => {
          const limiter = h.limiter(spec(algorithm, 1, 300))
          const { key, result } = await firstInWindow(limiter, 'expire', 300)
          assert.equal(result.allowed, true)
          const refused = await limiter.consume(key)
          assert.equal(refused.allowed, false)
          assert.ok(refused.retryAfterMs <= reach * 300, `retryAfterMs ${refused.retryAfterMs}`)
          if (h.expiries !== undefined) {
            const ttls = await h.expiries()
            assert.ok(ttls.length > 0, 'the limiter stored nothing it could list')
            // `undefined`: the entry expired between the listing and the read (a loaded machine).
            for (const ttl of ttls) assert.notEqual(ttl, null, 'an entry has no expiry')
          }
          await pass(h, refused.retryAfterMs)
          assert.equal((await limiter.consume(key)).allowed, true, 'allowed after 300 ms')
        })

        it('blockDuration: later hits do not extend the block, which then ends', async (h) => {
          const limiter = h.limiter(spec(algorithm, 1, 200, 600))
          const { key, result } = await firstInWindow(limiter, 'block', 200)
          assert.equal(result.allowed, true)
          const first = await limiter.consume(key)
          assert.equal(first.allowed, false)
          assert.ok(first.retryAfterMs > 200 && first.retryAfterMs <= 600, `${first.retryAfterMs}`)
          await pass(h, 250)
          const later = await limiter.consume(key)
          assert.equal(later.allowed, false, 'still blocked')
          assert.ok(
            later.retryAfterMs <= first.retryAfterMs,
            `a later hit extended the block: ${later.retryAfterMs} > ${first.retryAfterMs}`,
          )
          await pass(h, later.retryAfterMs)
          assert.equal((await limiter.consume(key)).allowed, true, 'allowed after the block')
        })

        it('remaining and availableIn are never negative, also past the limit', async (h) => {
          const limiter = h.limiter(spec(algorithm, 3, 60_000))
          const key = randomKey('never-negative')
          for (let i = 0; i < 4; i++) assertSane(await limiter.consume(key, 2), 'consume(2)')
          assertSane(await limiter.consume(key), 'consume the last point')
          assert.ok((await limiter.remaining(key)) >= 0, 'remaining')
          const wait = await limiter.availableIn(key)
          assert.ok(wait > 0 && wait <= reach * 60_000, `availableIn ${wait}`)
          if (h.advance !== undefined) {
            h.advance(-120_000) // the clock jumps back
            assert.ok((await limiter.remaining(key)) >= 0, 'remaining after a backward jump')
            assert.ok((await limiter.availableIn(key)) >= 0, 'availableIn after a backward jump')
            assertSane(await limiter.consume(key), 'consume after a backward jump')
          }
        })

        it('bad input is refused with typed errors', async (h) => {
          const limiter = h.limiter(spec(algorithm, 3, 60_000))
          const key = randomKey('bad')
          for (const points of [0, -1, 1.5, Number.NaN, Number.POSITIVE_INFINITY]) {
            await assertRejectsWithCode(() => limiter.consume(key, points), 'E_INVALID_LIMIT')
          }
          await assertRejectsWithCode(() => limiter.consume(''), 'E_INVALID_KEY')
          for (const bad of [spec(algorithm, 3, 0), spec(algorithm, 0, 1000)]) {
            await assertRejectsWithCode(() => h.limiter(bad), 'E_INVALID_LIMIT')
          }
          assert.equal((await limiter.consume(key)).remaining, 2, 'nothing was taken before')
        })
      })
    }

    it("keys: one over the store's maxKeyLength is E_INVALID_KEY; U+0000 is kept apart or E_INVALID_KEY", async (h) => {
      const limiter = h.limiter(spec(algorithms[0] ?? 'fixed-window', 3, 60_000))
      const max = h.maxKeyLength
      if (max !== undefined && Number.isFinite(max) && max >= 16) {
        const base = randomKey('long').slice(0, 16)
        await assertRejectsWithCode(
          () => limiter.consume(base.padEnd(max + 1, 'k')),
          'E_INVALID_KEY',
        )
        const exact = base.padEnd(max, 'k')
        // Fresh: the refused key took nothing, not even under its first maxKeyLength bytes.
        assert.equal((await limiter.consume(exact)).remaining, 2, 'a key of maxKeyLength bytes')
      }
      // A key with U+0000 is limited as its own key, or refused as a key the store cannot hold;
      // never a store error, and never cut at the U+0000 (which would share another key's count).
      const key = randomKey('nul')
      const nul = `${key}\u0000tail`
      const first = await limiter.consume(nul).then(
        (result) => result,
        (error: unknown) => error,
      )
      if (first instanceof Error || (first as { code?: unknown }).code !== undefined) {
        assert.equal((first as { code?: unknown }).code, 'E_INVALID_KEY', `U+0000: ${first}`)
        assert.equal((await limiter.consume(key)).remaining, 2, 'nothing taken for the refused key')
      } else {
        assert.equal((first as LimiterResultLike).remaining, 2, 'U+0000 key, first consume')
        assert.equal(
          (await limiter.consume(key)).remaining,
          2,
          'the key without U+0000 is another key',
        )
        assert.equal((await limiter.consume(nul)).remaining, 1, 'U+0000 key, second consume')
      }
    })

    if (algorithms.includes('sliding-window')) {
      it('sliding window: a burst right after a boundary is bounded by the one before', async (h) => {
        const clock = h.now ?? Date.now
        const wait = (ms: number) => (h.advance !== undefined ? h.advance(ms) : sleep(ms))
        // On a real clock each burst must land in its half of a window; a loaded machine may
        // miss that, and then the attempt is repeated with a fresh key and a window twice as
        // long (never judged), so a slow burst gets more room each time (at most ~35 s in all).
        for (let W = 2000; W <= 8000; W *= 2) {
          const limiter = h.limiter(spec('sliding-window', 10, W))
          const key = randomKey('boundary')
          await wait(W - (clock() % W) + W / 2) // mid-window
          const boundary = clock() - (clock() % W) + W
          const first = await Promise.all(Array.from({ length: 10 }, () => limiter.consume(key)))
          if (clock() >= boundary) continue
          assert.equal(allowedCount(first), 10)
          await wait(boundary - clock() + 10) // just past the boundary
          const second = await Promise.all(Array.from({ length: 10 }, () => limiter.consume(key)))
          if (clock() >= boundary + W / 2) continue
          assert.ok(
            allowedCount(second) < 10,
            `the burst after the boundary got ${allowedCount(second)}`,
          )
          return
        }
        assert.fail('no attempt placed both bursts around one boundary (machine too slow?)')
      })
    }

    if (algorithms.includes('token-bucket')) {
      it('token bucket: tokens come back one interval at a time', async (h) => {
        const limiter = h.limiter(spec('token-bucket', 4, 800)) // one token per 200 ms
        const key = randomKey('refill')
        const burst = []
        for (let i = 0; i < 5; i++) burst.push(await limiter.consume(key))
        assert.equal(allowedCount(burst), 4)
        const refused = burst[4] as LimiterResultLike
        assert.ok(
          refused.retryAfterMs > 0 && refused.retryAfterMs <= 200,
          `${refused.retryAfterMs}`,
        )
        await pass(h, refused.retryAfterMs)
        assert.equal((await limiter.consume(key)).allowed, true, 'one token came back')
        if (h.advance !== undefined) {
          assert.equal((await limiter.consume(key)).allowed, false, 'only one')
          h.advance(800)
          const refill = []
          for (let i = 0; i < 5; i++) refill.push(await limiter.consume(key))
          assert.equal(allowedCount(refill), 4, 'a full bucket after the window')
        }
      })
    }
  })
}
