import { writeFileSync } from 'node:fs'
import { Session } from 'node:inspector/promises'
import { join } from 'node:path'

/**
 * Runs `work`; with PROFILE_DIR set, under the V8 CPU profiler, writing
 * `<PROFILE_DIR>/<name>.cpuprofile` (open it in Chrome DevTools), so a profile holds one phase
 * (e.g. the reads) instead of the whole process with its load.
 */
export async function profiled<T>(name: string, work: () => Promise<T>): Promise<T> {
  const dir = process.env.PROFILE_DIR
  if (dir === undefined || dir === '') return work()
  const session = new Session()
  session.connect()
  await session.post('Profiler.enable')
  await session.post('Profiler.setSamplingInterval', { interval: 100 })
  await session.post('Profiler.start')
  try {
    return await work()
  } finally {
    const { profile } = await session.post('Profiler.stop')
    writeFileSync(
      join(dir, `${name.replace(/[^a-z0-9]+/gi, '-')}.cpuprofile`),
      JSON.stringify(profile),
    )
    session.disconnect()
  }
}
