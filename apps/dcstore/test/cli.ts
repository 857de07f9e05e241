// Runs the real dcstore CLI (built) as a child process, for the app's tests.
import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

export const DCSTORE_CLI = fileURLToPath(new URL('../src/cli.js', import.meta.url))

export interface CliResult { code: number | null, stdout: string, stderr: string }

/** Runs `dcstore ARGS` with $DCSTORE_AUDIT_KEY cleared unless given in `env`; exit code and output, whatever the code. */
export async function dcstore (args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  const { DCSTORE_AUDIT_KEY: _k, DCSTORE_HOME: _h, DCSTORE_OPERATOR: _o, ...base } = process.env
  const child = spawn(process.execPath, [DCSTORE_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'], env: { ...base, ...env } })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { code, stdout, stderr }
}
