import { once } from 'node:events'
import { createServer, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { MemoryStore } from '@cellar/memory'
import { serve } from '@hono/node-server'
import express from 'express'
import Fastify from 'fastify'
import { Hono } from 'hono'
import { afterEach, describe, expect, test } from 'vitest'
import {
  expressRateLimit,
  fastifyRateLimit,
  honoRateLimit,
  nodeRateLimit,
  RateLimiter,
  rateLimitHeaders,
} from '../src/index.js'

const closers: Array<() => Promise<unknown>> = []
afterEach(async () => {
  while (closers.length > 0) await closers.pop()?.()
})

function limiter(): RateLimiter {
  const store = new MemoryStore()
  closers.push(() => store.close())
  return new RateLimiter({ store, limit: 2, window: '1m' })
}

async function listen(server: Server): Promise<string> {
  if (!server.listening) {
    server.listen(0, '127.0.0.1')
    await once(server, 'listening')
  }
  closers.push(() => new Promise((resolve) => server.close(resolve)))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}/`
}

// Three requests against limit 2: two pass with the headers, the third gets 429 and Retry-After.
async function expectLimited(url: string): Promise<void> {
  const responses = []
  for (let i = 0; i < 3; i++) responses.push(await fetch(url))
  expect(responses.map((r) => r.status)).toEqual([200, 200, 429])
  expect(responses[0]?.headers.get('ratelimit-policy')).toBe('"default";q=2;w=60')
  expect(responses[0]?.headers.get('ratelimit')).toBe('"default";r=1;t=60')
  expect(responses[1]?.headers.get('ratelimit')).toBe('"default";r=0;t=60')
  const refused = responses[2] as Response
  expect(refused.headers.get('ratelimit')).toBe('"default";r=0;t=60')
  expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(0)
  expect(Number(refused.headers.get('retry-after'))).toBeLessThanOrEqual(60)
  expect(await refused.text()).toBe('Too Many Requests')
  expect(await responses[0]?.text()).toBe('ok')
}

describe('rateLimitHeaders', () => {
  test('writes the draft fields in whole seconds, rounded up, and Retry-After only when refused', () => {
    const allowed = { allowed: true, limit: 10, remaining: 3, resetMs: 1500, retryAfterMs: 0 }
    expect(rateLimitHeaders(allowed, { windowMs: 60_000, policy: 'api' })).toEqual({
      'RateLimit-Policy': '"api";q=10;w=60',
      RateLimit: '"api";r=3;t=2',
    })
    const refused = { allowed: false, limit: 10, remaining: 0, resetMs: 500, retryAfterMs: 1 }
    expect(rateLimitHeaders(refused, { windowMs: 500 })).toEqual({
      'RateLimit-Policy': '"default";q=10;w=1',
      RateLimit: '"default";r=0;t=1',
      'Retry-After': '1',
    })
  })
})

describe('middleware with the real frameworks, keyed by IP', () => {
  test('node:http', async () => {
    const limit = nodeRateLimit(limiter())
    const server = createServer(async (request, response) => {
      if (await limit(request, response)) response.end('ok')
    })
    await expectLimited(await listen(server))
  })

  test('Express', async () => {
    const app = express()
    app.use(expressRateLimit(limiter()))
    app.get('/', (_request, response) => {
      response.send('ok')
    })
    await expectLimited(await listen(createServer(app)))
  })

  test('Fastify', async () => {
    const app = Fastify()
    app.addHook('onRequest', fastifyRateLimit(limiter()))
    app.get('/', async () => 'ok')
    const url = await app.listen({ port: 0, host: '127.0.0.1' })
    closers.push(() => app.close())
    await expectLimited(`${url}/`)
  })

  test('Hono (Node adapter)', async () => {
    const app = new Hono()
    app.use(honoRateLimit(limiter()))
    app.get('/', (c) => c.text('ok'))
    const server = serve({ fetch: app.fetch, port: 0, hostname: '127.0.0.1' }) as Server
    await once(server, 'listening')
    await expectLimited(await listen(server))
  })

  test('keyed by a function: two keys have separate allowances', async () => {
    const limit = nodeRateLimit(limiter(), { key: (request) => String(request.headers['x-user']) })
    const server = createServer(async (request, response) => {
      if (await limit(request, response)) response.end('ok')
    })
    const url = await listen(server)
    const statuses = []
    for (const user of ['a', 'a', 'b', 'a', 'b']) {
      statuses.push((await fetch(url, { headers: { 'x-user': user } })).status)
    }
    expect(statuses).toEqual([200, 200, 200, 429, 200])
  })
})
