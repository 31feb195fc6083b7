// Servers for README samples, found the way the tests find them (@cellar/test-servers): an env
// URL, else a private server started from a binary on PATH, else the default loopback port; a
// missing one skips the sample's run with a loud line, or fails under CI=true.
// A sample names the default address (redis://127.0.0.1:6379, 127.0.0.1:11211); when the
// server found is elsewhere, that address is rewritten in the copy that runs, and said so.
import { findMemcached, findRedis } from '../../packages/test-servers/src/index.ts'

const SERVICES = [
  {
    name: 'Redis',
    needed: (imports) => imports.includes('@cellar/redis') || imports.includes('ioredis'),
    find: findRedis,
    defaults: ['redis://127.0.0.1:6379', 'redis://localhost:6379'],
    address: (server) => server.url,
  },
  {
    name: 'memcached',
    needed: (imports) => imports.includes('@cellar/memcached') || imports.includes('memjs'),
    find: findMemcached,
    defaults: ['127.0.0.1:11211', 'localhost:11211'],
    address: (server) => server.servers.split(/[\s,]+/)[0],
  },
]

const found = new Map()

/** Servers the sample needs: { name, server | undefined, error | undefined } each. */
export async function serversFor(imports) {
  const wanted = SERVICES.filter((service) => service.needed(imports))
  const result = []
  for (const service of wanted) {
    if (!found.has(service.name)) {
      found.set(
        service.name,
        service.find().then(
          (server) => ({ server }),
          (error) => ({ error }),
        ),
      )
    }
    result.push({ service, ...(await found.get(service.name)) })
  }
  return result
}

/** The sample text pointed at the servers found, plus one line per rewrite. */
export function pointAt(text, servers) {
  const notes = []
  let out = text
  for (const { service, server } of servers) {
    if (!server) continue
    const address = service.address(server)
    for (const fallback of service.defaults) {
      if (fallback === address || !out.includes(fallback)) continue
      out = out.split(fallback).join(address)
      notes.push(`${service.name}: the sample's ${fallback} → ${address} (${server.source})`)
    }
  }
  return { text: out, notes }
}

/** Stops the servers this process started. */
export async function stopServers() {
  for (const entry of found.values()) {
    const { server } = await entry
    if (server?.source === 'spawned') await server.stop()
  }
}
