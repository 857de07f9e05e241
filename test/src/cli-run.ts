import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { CLI_PATH } from 'cachepoint/launcher'

/** What a `cachepoint` process printed and how it exited. */
export interface CliRun { code: number | null, stdout: string, stderr: string }

/** Runs the real `cachepoint` CLI on a data directory. */
export async function cli (dataDir: string, ...args: string[]): Promise<CliRun> {
  const child = spawn(process.execPath, [CLI_PATH, '--data-dir', dataDir, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>((resolve) => child.on('close', resolve))
  return { code, stdout, stderr }
}

/** Runs it with `--json`, expects exit code 0, and parses what it printed. */
export async function cliJson<T> (dataDir: string, ...args: string[]): Promise<T> {
  const r = await cli(dataDir, '--json', ...args)
  assert.equal(r.code, 0, `${args.join(' ')}: ${r.stderr}`)
  return JSON.parse(r.stdout) as T
}
