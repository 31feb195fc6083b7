import { setTimeout as sleep } from 'node:timers/promises'
import { describe, expect, test } from 'vitest'
import { SingleFlight } from '../src/single-flight.js'

describe('SingleFlight', () => {
  test('a miss read before a load finished shares that load instead of loading again', async () => {
    const flights = new SingleFlight()
    let loads = 0
    const load = async () => {
      loads++
      await sleep(5)
      return loads
    }
    const early = flights.mark() // a caller starts reading the store now…
    expect(await flights.run('k', load)).toBe(1) // …another caller loads and finishes meanwhile…
    // …and the early read comes back a miss: it shares the finished load.
    expect(await flights.run('k', load, early)).toBe(1)
    expect(loads).toBe(1)
    // A caller that started reading after the load finished loads again on a miss.
    const late = flights.mark()
    expect(await flights.run('k', load, late)).toBe(2)
    expect(loads).toBe(2)
  })

  test('a failed load is not shared with late callers, and a running one is', async () => {
    const flights = new SingleFlight()
    const early = flights.mark()
    await expect(
      flights.run('k', async () => {
        throw new Error('down')
      }),
    ).rejects.toThrow('down')
    expect(await flights.run('k', async () => 'retried', early)).toBe('retried')
    const running = flights.run('j', () => sleep(5).then(() => 'first'))
    expect(await flights.run('j', async () => 'second')).toBe('first')
    expect(await running).toBe('first')
  })
})
