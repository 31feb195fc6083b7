import { describe, expect, test } from 'vitest'
import {
  addToCounter,
  assertBytes,
  assertDelta,
  assertKey,
  backendError,
  CellarError,
  decodeCounter,
  ENVELOPE_TAG,
  isCellarError,
  JsonSerializer,
  Lock,
  MsgpackSerializer,
  namespacePrefix,
  parseDuration,
  resolveTtl,
  SERIALIZED_TAG,
  scopedKey,
  unscopedKey,
  ValueCodec,
} from '../src/index.js'
import { mapLockBackend } from './map-store.js'

const ascii = (text: string) => new TextEncoder().encode(text)

describe('zero durations', () => {
  test("'0s', '0ms', '0m' and '0.0h' are 0, like 0 and '0'", () => {
    for (const zero of ['0s', '0ms', '0m', '0.0h', '0 s', '00s', '-0s']) {
      expect(Math.abs(parseDuration(zero))).toBe(0)
    }
    expect(resolveTtl('0s')).toBe(0)
  })

  test('a zero with a unit nobody knows is still refused', () => {
    expect(() => parseDuration('0 parsecs')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
  })
})

describe('keys', () => {
  test('lone surrogates are refused with E_INVALID_KEY; pairs are fine', () => {
    for (const key of ['\uD800', '\uDBFF', `user:${'🔑'.slice(0, 1)}`, `user:${'🔒'.slice(1)}`]) {
      expect(() => assertKey(key)).toThrow(expect.objectContaining({ code: 'E_INVALID_KEY' }))
    }
    expect(() => assertKey('user:🔑')).not.toThrow()
  })

  test('a namespace cannot alias its parent, a sibling or a nested namespace', () => {
    const stored = new Map<string, string>()
    const place = (where: string, full: string) => {
      const other = stored.get(full)
      expect(other, `${where} and ${other} share "${full}"`).toBeUndefined()
      stored.set(full, where)
    }
    const keys = ['42', 'users:42', '~users:42', '~~x', '~', 'a', 'user', 's:42', '%3A', '~user:42']
    const names = ['users', 'user', 'user:', 'a', 'a:b', '~x', '%', '%25', ':', 'über', '🔑']
    for (const key of keys) place(`root ${key}`, scopedKey('p:', key))
    for (const name of names) {
      const ns = namespacePrefix('p:', name)
      for (const key of keys) place(`${name}/${key}`, scopedKey(ns, key))
      for (const inner of names.slice(0, 3)) {
        const nested = namespacePrefix(ns, inner)
        for (const key of keys) place(`${name}/${inner}/${key}`, scopedKey(nested, key))
      }
    }
  })

  test('a namespace prefix never starts one of its parent plain keys, or a sibling', () => {
    const ns = namespacePrefix('', 'users')
    for (const key of ['users:42', '~users:42', 'users', '~users']) {
      expect(scopedKey('', key).startsWith(ns)).toBe(false)
    }
    expect(namespacePrefix('', 'users').startsWith(namespacePrefix('', 'user'))).toBe(false)
  })

  test('unscopedKey inverts scopedKey and skips nested namespaces', () => {
    for (const key of ['a', '~a', '~~', 'users:1']) {
      expect(unscopedKey('p:', scopedKey('p:', key))).toBe(key)
    }
    expect(unscopedKey('p:', scopedKey(namespacePrefix('p:', 'n'), 'k'))).toBeUndefined()
    expect(unscopedKey('p:', 'q:a')).toBeUndefined()
  })

  test('namespace names follow the key rules', () => {
    expect(() => namespacePrefix('', '')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    )
    expect(() => namespacePrefix('', '\uD800')).toThrow(
      expect.objectContaining({ code: 'E_INVALID_KEY' }),
    )
  })
})

describe('counters', () => {
  test('only canonical decimal is a counter', () => {
    for (const text of ['0', '7', '-7', '9007199254740991', '-9007199254740991']) {
      expect(decodeCounter(ascii(text))).toBe(Number(text))
    }
    for (const text of ['007', '+5', ' 5', '5 ', '-0', '00', '', '-', '9007199254740992', '1e3']) {
      expect(decodeCounter(ascii(text)), JSON.stringify(text)).toBeUndefined()
    }
  })

  test('a result past the safe-integer range is refused with E_NOT_A_NUMBER', () => {
    expect(addToCounter(Number.MAX_SAFE_INTEGER - 1, 1, 'k')).toBe(Number.MAX_SAFE_INTEGER)
    expect(() => addToCounter(Number.MAX_SAFE_INTEGER, 1, 'k')).toThrow(
      expect.objectContaining({ code: 'E_NOT_A_NUMBER', key: 'k' }),
    )
    expect(() => addToCounter(-Number.MAX_SAFE_INTEGER, -1, 'k')).toThrow(/safe-integer range/)
  })
})

describe('ValueCodec', () => {
  const codec = new ValueCodec(new MsgpackSerializer(), false)

  test('safe integers are decimal, -0 and other values are tagged payloads', () => {
    expect(codec.encode('k', 12)).toEqual(ascii('12'))
    const negativeZero = codec.encode('k', -0) as Uint8Array
    expect(negativeZero[0]).toBe(SERIALIZED_TAG)
    expect(Object.is(codec.decode('k', negativeZero), -0)).toBe(true)
    expect(codec.decode('k', codec.encode('k', 1.5))).toBe(1.5)
    expect(codec.decode('k', codec.encode('k', { a: [1, 'x'] }))).toEqual({ a: [1, 'x'] })
  })

  test('an envelope carries metadata the value never sees', () => {
    const meta = { expiresAt: 1_700_000_000_123.5, freshUntil: 1_700_000_000_000 }
    const stored = codec.encode('k', { n: 1 }, meta) as Uint8Array
    expect(stored[0]).toBe(ENVELOPE_TAG)
    expect(codec.decode('k', stored)).toEqual({ n: 1 })
    expect(codec.decodeEntry('k', stored)).toEqual({ value: { n: 1 }, meta })
    const one = codec.encode('k', 5, { freshUntil: 9 })
    expect(codec.decodeEntry('k', one)).toEqual({ value: 5, meta: { freshUntil: 9 } })
    expect(codec.decodeEntry('k', codec.encode('k', 'plain'))).toEqual({
      value: 'plain',
      meta: undefined,
    })
  })

  test('raw codecs keep values and envelopes as objects', () => {
    const raw = new ValueCodec(new JsonSerializer(), true)
    const value = { a: 1 }
    expect(raw.encode('k', value)).toBe(value)
    const stored = raw.encode('k', value, { expiresAt: 5 })
    expect(raw.decode('k', stored)).toBe(value)
    expect(raw.decodeEntry('k', stored)).toEqual({ value, meta: { expiresAt: 5 } })
  })

  test('bad bytes and unknown envelope versions are E_SERIALIZATION', () => {
    for (const bytes of [
      ascii('007'),
      Uint8Array.of(ENVELOPE_TAG, 9, 0),
      Uint8Array.of(ENVELOPE_TAG, 1, 1, 0),
    ]) {
      expect(() => codec.decode('k', bytes)).toThrow(
        expect.objectContaining({ code: 'E_SERIALIZATION', key: 'k' }),
      )
    }
    expect(() => codec.encode('k', 1, { expiresAt: Number.NaN })).toThrow(
      expect.objectContaining({ code: 'E_INVALID_ARGUMENT' }),
    )
    expect(() => codec.encode('k', undefined)).toThrow(/cannot cache undefined/)
  })
})

describe('errors', () => {
  test('other packages declare their own codes without editing core', () => {
    class UnknownStoreError extends CellarError<'E_UNKNOWN_STORE'> {
      constructor(name: string) {
        super('E_UNKNOWN_STORE', `[cellar:cache] no store named "${name}"`)
      }
    }
    const error: unknown = new UnknownStoreError('redis')
    expect(isCellarError(error, 'E_UNKNOWN_STORE')).toBe(true)
    expect(isCellarError(error, 'E_INVALID_KEY')).toBe(false)
  })

  test('backendError wraps a driver error once, naming source, operation and key', () => {
    const cause = new Error('connect ECONNREFUSED')
    const error = backendError(cause, { source: 'redis', operation: 'get', key: 'k', hint: 'down' })
    expect(error).toMatchObject({ code: 'E_BACKEND_UNAVAILABLE', key: 'k', cause })
    expect(error.message).toBe('[cellar:redis] get "k" failed: connect ECONNREFUSED (down)')
    expect(backendError(error, { source: 'x', operation: 'y' })).toBe(error)
    expect(backendError('text', { source: 'x', operation: 'y' }).cause).toBeInstanceOf(Error)
  })

  test('core messages carry the [cellar] prefix', () => {
    const codec = new ValueCodec(new MsgpackSerializer(), false)
    const failures = [
      () => parseDuration('soon'),
      () => parseDuration(Number.NaN),
      () => resolveTtl({} as never, null, 'k'),
      () => assertKey(''),
      () => assertKey('\uD800'),
      () => assertBytes('text' as never, 'k'),
      () => assertDelta(1.5, 'k'),
      () => addToCounter(Number.MAX_SAFE_INTEGER, 1, 'k'),
      () => codec.encode('k', undefined),
      () => codec.decode('k', ascii('007')),
      () => namespacePrefix('', ''),
    ]
    for (const fail of failures) {
      expect(fail).toThrow(CellarError)
      expect(fail).toThrow(/^\[cellar\]/)
    }
  })

  test("core's lock messages carry the [cellar] prefix, with their codes", async () => {
    // One holder per name, no expiry: enough to drive every refusal of Lock itself.
    const backend = mapLockBackend()
    const refusals: Array<[() => unknown, string]> = [
      [() => new Lock(backend, 'job', { ttl: 0 }), 'E_INVALID_ARGUMENT'],
      [() => new Lock(backend, 'job', { ttl: 'soon' }), 'E_INVALID_ARGUMENT'],
      [() => new Lock(backend, 'job', { owner: '' }), 'E_INVALID_ARGUMENT'],
      [() => new Lock(backend, '', {}), 'E_INVALID_KEY'],
    ]
    for (const [fail, code] of refusals) {
      expect(fail).toThrow(/^\[cellar\]/)
      expect(fail).toThrow(expect.objectContaining({ code }))
    }
    const holder = new Lock(backend, 'job')
    expect(await holder.acquire()).toBe(1)
    const other = new Lock(backend, 'job')
    const rejections: Array<[() => Promise<unknown>, string]> = [
      [() => other.block(20), 'E_LOCK_TIMEOUT'],
      [() => other.release(), 'E_LOCK_NOT_OWNED'],
      [() => other.extend(1000), 'E_LOCK_NOT_OWNED'],
      [() => other.extend(0), 'E_INVALID_ARGUMENT'],
      [() => new Lock(backend, 'forever', { ttl: null }).extend(), 'E_INVALID_ARGUMENT'],
    ]
    for (const [call, code] of rejections) {
      const error = await call().then(
        () => expect.fail(`expected a rejection with ${code}`),
        (reason: unknown) => reason,
      )
      expect(error).toMatchObject({ code, key: expect.any(String) })
      expect((error as Error).message).toMatch(/^\[cellar\]/)
    }
  })
})
