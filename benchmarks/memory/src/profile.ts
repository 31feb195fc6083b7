// Runs one contender's operation in a loop, for `node --cpu-prof` (see README, "Profiling").
// Usage: tsx src/profile.ts "<contender name>" <get-hit|get-miss|set> [seconds]
import { createContenders, prepare } from './contenders.js'

const [name, op = 'get-hit', seconds = '5'] = process.argv.slice(2)
const contenders = createContenders()
const contender = contenders.find((c) => c.name === name)
if (contender === undefined) {
  console.error(`unknown contender ${JSON.stringify(name)}; one of:`)
  for (const c of contenders) console.error(`  ${c.name}`)
  process.exit(1)
}
await prepare([contender])
const fn = op === 'get-hit' ? contender.hit : op === 'get-miss' ? contender.miss : contender.set
const deadline = performance.now() + Number(seconds) * 1000
let count = 0
while (performance.now() < deadline) {
  for (let i = 0; i < 1000; i++) await fn()
  count += 1000
}
console.log(
  `${contender.name} ${op}: ${Math.round(count / Number(seconds)).toLocaleString()} ops/s`,
)
for (const c of contenders) await c.close?.()
