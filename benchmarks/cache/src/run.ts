// `pnpm bench`: starts a private Redis (through @cellar/test-servers, which ships TypeScript and
// so runs under tsx here), then runs the compiled bench under plain node: a loader's hooks would
// slow every call of every contender and skew the in-process ratios.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { startRedis } from '@cellar/test-servers'

const server = process.env.REDIS_URL === undefined ? await startRedis() : undefined
const { NODE_OPTIONS: _loader, ...env } = process.env
const child = spawn(
  process.execPath,
  [fileURLToPath(new URL('../.bench/bench.js', import.meta.url))],
  {
    env: { ...env, REDIS_URL: server?.url ?? process.env.REDIS_URL },
    stdio: 'inherit',
  },
)
const code = await new Promise<number | null>((resolve) => child.once('exit', resolve))
await server?.stop()
process.exitCode = code ?? 1
