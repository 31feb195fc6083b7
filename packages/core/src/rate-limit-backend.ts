import type {
  RateLimitAlgorithm,
  RateLimitBackend,
  RateLimitDecision,
  RateLimitRequest,
} from './rate-limit.js'

/**
 * A `RateLimitBackend` whose three algorithm methods are one `decide(algorithm, key, request)`:
 * the shape of a backend that runs core's reference step (`rateLimitStep`) on its own state.
 */
export abstract class SteppedRateLimitBackend implements RateLimitBackend {
  fixedWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.decide('fixed-window', key, request)
  }

  slidingWindow(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.decide('sliding-window', key, request)
  }

  tokenBucket(key: string, request: RateLimitRequest): Promise<RateLimitDecision> {
    return this.decide('token-bucket', key, request)
  }

  abstract reset(key: string): Promise<void>

  /** One atomic decision of `algorithm` for `key`. */
  protected abstract decide(
    algorithm: RateLimitAlgorithm,
    key: string,
    request: RateLimitRequest,
  ): Promise<RateLimitDecision>
}
