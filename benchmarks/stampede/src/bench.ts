// The stampede benchmark: see ../README.md (docs/stampede.md and docs/tiers.md carry the tables).
// `tsx src/bench.ts [stampede|processes|l1|invalidation ...]` runs some sections; none: all.
import { cpus } from 'node:os'
import { useRedis } from '@cellar/test-servers'
import { load } from './common.js'
import { invalidationSection } from './invalidation.js'
import { l1Section } from './l1-hits.js'
import { processesSection } from './processes.js'
import { stampedeSection } from './stampede.js'

const wanted = new Set(process.argv.slice(2))
const run = (section: string) => wanted.size === 0 || wanted.has(section)

const redis = await useRedis()
if (!redis) throw new Error('the stampede benchmark needs Redis')
console.log(
  `# stampede benchmark, ${new Date().toISOString()}, Node ${process.version}, ${cpus().length} CPUs, load average ${load()}`,
)
if (run('stampede')) await stampedeSection(redis.url, Number(process.env.STAMPEDE_ROUNDS ?? 9))
if (run('processes')) await processesSection(redis.url, 5)
if (run('l1')) await l1Section(redis.url, 7)
if (run('invalidation')) await invalidationSection(redis.url, 2_000)
console.log(`\nload average at the end: ${load()}`)
process.exit(0)
