import { isCellarError } from '@cellar/core'
import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'

/** A 400 with a JSON body naming what was wrong with the request. */
export function badRequest(message: string): HTTPException {
  return new HTTPException(400, {
    res: Response.json({ error: message }, { status: 400 }),
  })
}

const CLIENT_ERRORS = new Set(['E_INVALID_KEY', 'E_INVALID_ARGUMENT', 'E_NOT_A_NUMBER'])

/** Maps thrown errors to JSON responses: bad input from cellar is a 400, the rest a 500. */
export function handleError(error: Error, c: Context): Response {
  if (error instanceof HTTPException) return error.getResponse()
  if (isCellarError(error) && CLIENT_ERRORS.has(error.code)) {
    return c.json({ error: error.message, code: error.code }, 400)
  }
  if (isCellarError(error) && error.code === 'E_BACKEND_UNAVAILABLE') {
    return c.json({ error: 'cache backend unavailable', code: error.code }, 503)
  }
  console.error(error)
  return c.json({ error: 'internal error' }, 500)
}

/** Parses a positive integer path or query parameter, or throws a 400. */
export function positiveInt(value: string | undefined, what: string): number {
  const n = Number(value)
  if (value === undefined || !/^\d+$/.test(value) || !Number.isSafeInteger(n) || n < 1) {
    throw badRequest(`${what} must be a positive integer, got ${JSON.stringify(value)}`)
  }
  return n
}
