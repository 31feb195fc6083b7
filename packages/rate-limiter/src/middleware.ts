import type { IncomingMessage, ServerResponse } from 'node:http'
import { rateLimitHeaders } from './headers.js'
import type { RateLimitResult } from './options.js'

/** What the middlewares need of a limiter. */
export interface HttpLimiter {
  readonly windowMs: number
  consume(key: string, points?: number): Promise<RateLimitResult>
}

/** Options shared by every middleware; `R` is the framework's request. */
export interface RateLimitMiddlewareOptions<R> {
  /** The limited key of a request. @default the client's IP address */
  readonly key?: (request: R) => string | Promise<string>
  /** Points a request costs. @default 1 */
  readonly points?: (request: R) => number
  /** The policy name of the `RateLimit` headers. @default 'default' */
  readonly policy?: string
  /** Body of a refused request. @default 'Too Many Requests' */
  readonly message?: string
}

interface Decision {
  readonly result: RateLimitResult
  readonly headers: Record<string, string>
}

async function decide<R>(
  limiter: HttpLimiter,
  options: RateLimitMiddlewareOptions<R>,
  request: R,
  ip: string | undefined,
): Promise<Decision> {
  const key = options.key === undefined ? ip : await options.key(request)
  if (key === undefined || key === '') {
    throw new TypeError('[cellar:rate-limiter] no client address: pass options.key')
  }
  const result = await limiter.consume(key, options.points?.(request) ?? 1)
  const policy = { windowMs: limiter.windowMs, policy: options.policy ?? 'default' }
  return { result, headers: rateLimitHeaders(result, policy) }
}

const message = (options: RateLimitMiddlewareOptions<never>) =>
  options.message ?? 'Too Many Requests'

/**
 * For `node:http`: resolves true when the request may go on (headers set), or answers 429 with
 * the headers and resolves false.
 */
export function nodeRateLimit(
  limiter: HttpLimiter,
  options: RateLimitMiddlewareOptions<IncomingMessage> = {},
): (request: IncomingMessage, response: ServerResponse) => Promise<boolean> {
  return async (request, response) => {
    const { result, headers } = await decide(
      limiter,
      options,
      request,
      request.socket.remoteAddress,
    )
    for (const [name, value] of Object.entries(headers)) response.setHeader(name, value)
    if (result.allowed) return true
    response.statusCode = 429
    response.setHeader('Content-Type', 'text/plain; charset=utf-8')
    response.end(message(options))
    return false
  }
}

/** The part of Express's request the middleware reads. */
export interface ExpressRequestLike extends IncomingMessage {
  readonly ip?: string | undefined
}
/** The part of Express's response the middleware uses. */
export interface ExpressResponseLike extends ServerResponse {
  set(headers: Record<string, string>): unknown
  status(code: number): ExpressResponseLike
  send(body: string): unknown
}

/** Express middleware: `app.use(expressRateLimit(limiter))`; errors go to `next(error)`. */
export function expressRateLimit(
  limiter: HttpLimiter,
  options: RateLimitMiddlewareOptions<ExpressRequestLike> = {},
): (
  request: ExpressRequestLike,
  response: ExpressResponseLike,
  next: (error?: unknown) => void,
) => void {
  return (request, response, next) => {
    decide(limiter, options, request, request.ip ?? request.socket.remoteAddress).then(
      ({ result, headers }) => {
        response.set(headers)
        if (result.allowed) next()
        else response.status(429).send(message(options))
      },
      next,
    )
  }
}

/** The part of Fastify's request the hook reads. */
export interface FastifyRequestLike {
  readonly ip: string
}
/** The part of Fastify's reply the hook uses. */
export interface FastifyReplyLike {
  headers(values: Record<string, string>): FastifyReplyLike
  code(status: number): FastifyReplyLike
  send(body: string): FastifyReplyLike
}

/** Fastify hook: `app.addHook('onRequest', fastifyRateLimit(limiter))`. */
export function fastifyRateLimit<R extends FastifyRequestLike, P extends FastifyReplyLike>(
  limiter: HttpLimiter,
  options: RateLimitMiddlewareOptions<R> = {},
): (request: R, reply: P) => Promise<void> {
  return async (request, reply) => {
    const { result, headers } = await decide(limiter, options, request, request.ip)
    reply.headers(headers)
    if (!result.allowed) await reply.code(429).send(message(options))
  }
}

/** The part of Hono's context the middleware uses. */
export interface HonoContextLike {
  readonly env: unknown
  header(name: string, value: string): void
  text(body: string, status: 429): Response
}

/** Hono middleware: `app.use(honoRateLimit(limiter))` (default key: the Node adapter's socket). */
export function honoRateLimit<C extends HonoContextLike>(
  limiter: HttpLimiter,
  options: RateLimitMiddlewareOptions<C> = {},
): (context: C, next: () => Promise<void>) => Promise<Response | undefined> {
  return async (context, next) => {
    const incoming = (context.env as { incoming?: IncomingMessage } | undefined)?.incoming
    const ip = incoming?.socket.remoteAddress
    const { result, headers } = await decide(limiter, options, context, ip)
    for (const [name, value] of Object.entries(headers)) context.header(name, value)
    if (!result.allowed) return context.text(message(options), 429)
    await next()
    return undefined
  }
}
