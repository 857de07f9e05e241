import { spawn } from 'node:child_process'
import { CLI_PATH } from 'cachepoint/launcher'
import type { CliRun } from './cli-run.js'

/**
 * Runs `cachepoint [prefix...] daemon` on a data directory; one still alive after `ms` is killed (`killed`), so a
 * daemon that should have refused to start cannot hang the test. With `until`, the daemon is sent SIGTERM once its
 * output shows that text.
 */
export async function daemonRun (dataDir: string, ms: number, prefix: string[] = [], until?: string): Promise<CliRun & { killed: boolean }> {
  const [command, ...args] = [...prefix, process.execPath, CLI_PATH, '--data-dir', dataDir, 'daemon']
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString()
    if (until !== undefined && stdout.includes(until)) child.kill('SIGTERM')
  })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  let killed = false
  const timer = setTimeout(() => { killed = true; child.kill('SIGKILL') }, ms)
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  clearTimeout(timer)
  return { code, stdout, stderr, killed }
}
