import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { createHash } from 'node:crypto'
import { createServer } from 'node:net'
import { mkdtempSync } from 'node:fs'
import { readdir, readFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'

// Launchers for the personal-folder tests: the dcstore CLI and the node-side
// child (personal-node.js) as real processes, read line by line.

export const DCSTORE_CLI = fileURLToPath(new URL('../../../apps/dcstore/dist/src/cli.js', import.meta.url))
export const NODE_CHILD = fileURLToPath(new URL('./personal-node.js', import.meta.url))

// dcstore's audited commands need an audit key kept outside the data directory: one per test process, for every child
if (process.env.DCSTORE_AUDIT_KEY === undefined) {
  const auditKey = join(mkdtempSync(join(tmpdir(), 'dcstore-audit-key-')), 'audit.key')
  execFileSync(process.execPath, [DCSTORE_CLI, 'audit', 'keygen', '--out', auditKey])
  process.env.DCSTORE_AUDIT_KEY = auditKey
}

export interface Proc {
  child: ChildProcess
  /** Every JSON line printed so far. */
  events: Array<Record<string, unknown>>
  /** Resolves with the first event matching. */
  waitFor: (match: (e: Record<string, unknown>) => boolean, timeoutMs?: number) => Promise<Record<string, unknown>>
  exited: Promise<number | null>
  stderr: () => string
}

export function launch (script: string, args: string[]): Proc {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  const events: Array<Record<string, unknown>> = []
  const waiters: Array<{ match: (e: Record<string, unknown>) => boolean, resolve: (e: Record<string, unknown>) => void }> = []
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err += d.toString() })
  createInterface({ input: child.stdout! }).on('line', line => {
    let e: Record<string, unknown>
    try { e = JSON.parse(line) as Record<string, unknown> } catch { e = { line } }
    events.push(e)
    for (const w of [...waiters]) if (w.match(e)) { waiters.splice(waiters.indexOf(w), 1); w.resolve(e) }
  })
  const exited = new Promise<number | null>(resolve => child.once('exit', code => { resolve(code) }))
  return {
    child,
    events,
    exited,
    stderr: () => err,
    waitFor: async (match, timeoutMs = 30_000) => {
      const found = events.find(match)
      if (found !== undefined) return found
      return await new Promise((resolve, reject) => {
        const timer = setTimeout(() => { reject(new Error(`timed out waiting; stderr: ${err.slice(-2000)}`)) }, timeoutMs)
        void exited.then(code => { clearTimeout(timer); reject(new Error(`exited ${String(code)} before the event; stderr: ${err.slice(-2000)}`)) })
        waiters.push({ match, resolve: e => { clearTimeout(timer); resolve(e) } })
      })
    }
  }
}

/** Runs a command to completion; returns stdout, rejects on a non-zero exit. */
export async function run (script: string, args: string[]): Promise<string> {
  const p = launch(script, args)
  let out = ''
  p.child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const code = await p.exited
  if (code !== 0) throw Object.assign(new Error(`${args.join(' ')} exited ${String(code)}: ${p.stderr()}`), { exitCode: code, stdout: out })
  return out
}

export async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise(resolve => server.close(resolve))
  return port
}

/** path -> hex SHA-256 of every regular file under `dir`. */
export async function treeHashes (dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {}
  for (const d of await readdir(join(dir, prefix), { withFileTypes: true })) {
    const rel = prefix === '' ? d.name : `${prefix}/${d.name}`
    if (d.isDirectory()) Object.assign(out, await treeHashes(dir, rel))
    else if (d.isFile()) out[rel] = createHash('sha256').update(await readFile(join(dir, rel))).digest('hex')
  }
  return out
}

/** Runs the real dcstore CLI: exit code and output, whatever the code. */
export async function dcstore (...args: string[]): Promise<{ code: number | null, stdout: string, stderr: string }> {
  const child = spawn(process.execPath, [DCSTORE_CLI, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => { stdout += d.toString() })
  child.stderr.on('data', (d: Buffer) => { stderr += d.toString() })
  const code = await new Promise<number | null>(resolve => child.on('close', resolve))
  return { code, stdout, stderr }
}
