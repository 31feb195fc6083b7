import type { Store } from '@cellar/core'

/** A store (and every namespace made from it) that records the name of each method called. */
export function spy(
  store: Store<unknown>,
  calls: string[] = [],
): { store: Store<unknown>; calls: string[] } {
  const proxy = new Proxy(store, {
    get(target, property, receiver) {
      const value = Reflect.get(target, property, receiver)
      if (typeof value !== 'function' || property === 'constructor') return value
      return (...args: unknown[]) => {
        if (property === 'namespace') return spy(value.apply(target, args), calls).store
        calls.push(String(property))
        return value.apply(target, args)
      }
    },
  })
  return { store: proxy, calls }
}
