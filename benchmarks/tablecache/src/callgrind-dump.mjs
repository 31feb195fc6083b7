// For scripts running under callgrind that dump counts as they go (`callgrind_control -d`).
import { readdirSync, readFileSync } from 'node:fs'

/** The instruction total of the newest dump callgrind wrote into `dir` (its `cg.out.<n>` files). */
export function lastTotal(dir) {
  const dumps = readdirSync(dir)
    .filter((f) => /\.\d+$/.test(f))
    .sort((a, b) => Number(a.split('.').pop()) - Number(b.split('.').pop()))
  const text = readFileSync(`${dir}/${dumps.at(-1)}`, 'utf8')
  return Number(/^(?:totals|summary): (\d+)/m.exec(text)[1])
}
