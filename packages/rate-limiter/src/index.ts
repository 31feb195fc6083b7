export { InvalidLimitError, UnsafeStoreError } from './errors.js'
export { CounterRateLimitBackend } from './fallback.js'
export type { RateLimitHeaderOptions } from './headers.js'
export { rateLimitHeaders } from './headers.js'
export type {
  ExpressRequestLike,
  ExpressResponseLike,
  FastifyReplyLike,
  FastifyRequestLike,
  HonoContextLike,
  HttpLimiter,
  RateLimitMiddlewareOptions,
} from './middleware.js'
export { expressRateLimit, fastifyRateLimit, honoRateLimit, nodeRateLimit } from './middleware.js'
export type {
  LimiterAcceptance,
  RateLimiterOptions,
  RateLimitResult,
  StoreFailurePolicy,
} from './options.js'
export { RateLimiter } from './rate-limiter.js'
