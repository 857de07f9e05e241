/**
 * The data-center store scaled out: replication throughput of NODES nodes
 * replicating at once (each its own process, its own user, MIB random MiB of
 * new data) into one `dcstore serve` process vs two (the nodes split between
 * them), behind one PostgreSQL index, with the blocks on the local directory
 * (pack stores: one process only), a shared-filesystem path on the local disk,
 * and a real Swift with s3api on loopback. The baseline of each two-process
 * figure is the one-process figure on the same backend.
 * Sizes: BENCH_DCSTORE_NODES (default 4), BENCH_DCSTORE_MIB (default 8 per node).
 * Run alone: `npm run build && BENCH=dcstore-scale node bench/dist/src/run.js`.
 */
import '@cachecloud/core/polyfill'
import { spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { findPostgresBin, startPrivateCluster } from '@cachecloud/dcstore/testing/postgres'
import { startSwift, swiftMissing } from '@cachecloud/dcstore/testing/swift'
import { execFile } from 'node:child_process'
import { promisify } from 'node:util'
import { findTool } from '@cachecloud/fixtures'
import type { BenchResult } from './types.js'

const run$ = promisify(execFile)

const CLI = fileURLToPath(new URL('../../../apps/dcstore/dist/src/cli.js', import.meta.url))
const NODE = fileURLToPath(new URL('./dcstore-scale-node.js', import.meta.url))
const NODES = Number(process.env.BENCH_DCSTORE_NODES ?? 4)
const MIB = Number(process.env.BENCH_DCSTORE_MIB ?? 8)

interface Child { child: ChildProcess, next: (match: (e: Record<string, unknown>) => boolean) => Promise<Record<string, unknown>>, err: () => string }

function launch (script: string, args: string[], env: NodeJS.ProcessEnv = process.env): Child {
  const child = spawn(process.execPath, [script, ...args], { stdio: ['pipe', 'pipe', 'pipe'], env })
  const events: Array<Record<string, unknown>> = []
  const waiters: Array<() => void> = []
  let err = ''
  child.stderr!.on('data', (d: Buffer) => { err = (err + d.toString()).slice(-4000) })
  createInterface({ input: child.stdout! }).on('line', line => {
    try { events.push(JSON.parse(line) as Record<string, unknown>) } catch { return }
    for (const w of waiters.splice(0)) w()
  })
  const exited = new Promise<void>(resolve => child.once('exit', () => { resolve() }))
  return {
    child,
    err: () => err,
    next: async match => {
      for (;;) {
        const found = events.find(match)
        if (found !== undefined) return found
        if (child.exitCode !== null) throw new Error(`${script} exited ${child.exitCode}: ${err}`)
        await Promise.race([new Promise<void>(resolve => waiters.push(resolve)), exited])
      }
    }
  }
}

async function cli (args: string[], env: NodeJS.ProcessEnv): Promise<string> {
  const c = launch(CLI, args, env)
  let out = ''
  c.child.stdout!.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => c.child.once('exit', resolve))
  if (code !== 0) throw new Error(`dcstore ${args.join(' ')} exited ${String(code)}: ${c.err()}`)
  return out
}

/** What a run measures after the replication, with the store still there (an export, restic on the same data). */
type After = (r: { dir: string, global: string[], folders: string[], discoveryKey: string }) => Promise<void>

/** One run: `processes` store processes on `blocks`, NODES nodes replicating at once; MB/s of new data committed. */
async function measure (root: string, blocks: string, processes: number, pgUrl: string, env: NodeJS.ProcessEnv, after?: After): Promise<number> {
  const dir = await mkdtemp(join(root, 'run-'))
  const discoveryKey = join(dir, 'discovery.key')
  const discovery = (await cli(['keygen', '--out', discoveryKey], env)).trim()
  const global = ['--data', join(dir, 'store'), '--index-url', pgUrl, '--blocks', blocks]
  const stores = Array.from({ length: processes }, () => launch(CLI, [...global, '--discovery-key', discoveryKey, 'serve', '--listen', '/ip4/127.0.0.1/tcp/0'], env))
  const nodes: Child[] = []
  try {
    const addrs = await Promise.all(stores.map(async s => ((await s.next(e => e.peerId !== undefined)).addrs as string[])[0]))
    for (let i = 0; i < NODES; i++) {
      const folder = join(dir, `user${i}`)
      await mkdir(folder)
      for (let f = 0; f < MIB; f++) await writeFile(join(folder, `f${f}.bin`), randomBytes(1024 * 1024))
      // node i goes to store process i mod K first, the others after
      const order = addrs.map((_, k) => addrs[(i + k) % addrs.length])
      nodes.push(launch(NODE, [join(dir, `node${i}`), folder, `user${i}`, discovery, ...order], env))
    }
    const ready = await Promise.all(nodes.map(async n => await n.next(e => e.event === 'ready')))
    for (const [i, r] of ready.entries()) await cli([...global, 'enroll', r.peerId as string, '--user', `user${i}`], env)
    const bytes = ready.reduce((s, r) => s + (r.newBytes as number), 0)
    const t0 = performance.now()
    for (const n of nodes) n.child.stdin!.write('go\n')
    const done = await Promise.all(nodes.map(async n => await n.next(e => e.event === 'replicated')))
    const seconds = (performance.now() - t0) / 1000
    if (done.some(d => d.replicated !== 1)) throw new Error('a node did not replicate its snapshot')
    await after?.({ dir, global, folders: Array.from({ length: NODES }, (_, i) => join(dir, `user${i}`)), discoveryKey })
    return bytes / 1e6 / seconds
  } finally {
    for (const c of [...nodes, ...stores]) if (c.child.exitCode === null) c.child.kill('SIGKILL')
    await rm(dir, { recursive: true, force: true })
  }
}

export async function run (): Promise<BenchResult[]> {
  const bin = await findPostgresBin()
  if (bin === undefined) return [{ name: 'dcstore scale-out', value: 0, unit: '', note: 'skipped: PostgreSQL not installed' }]
  const root = await mkdtemp(join(tmpdir(), 'bench-dcstore-scale-'))
  const auditKey = join(root, 'audit.key')
  await cli(['audit', 'keygen', '--out', auditKey], process.env)
  const cluster = await startPrivateCluster(bin)
  const pgUrl = (db: string): string => `postgres://postgres@127.0.0.1:${cluster.port}/${db}`
  let databases = 0
  const fresh = async (): Promise<string> => {
    const name = `bench${++databases}`
    const pg = (await import('pg')).default
    const c = new pg.Client({ connectionString: pgUrl('postgres') })
    await c.connect(); await c.query(`CREATE DATABASE ${name}`); await c.end()
    return pgUrl(name)
  }
  const env = { ...process.env, DCSTORE_AUDIT_KEY: auditKey, DCSTORE_LOG_LEVEL: 'warn' }
  const results: BenchResult[] = []
  const size = `${NODES} nodes x ${MIB} MiB`
  const pair = async (label: string, blocks: () => string, extraEnv: NodeJS.ProcessEnv = {}, after?: After): Promise<void> => {
    const one = await measure(root, blocks(), 1, await fresh(), { ...env, ...extraEnv }, after)
    const two = await measure(root, blocks(), 2, await fresh(), { ...env, ...extraEnv })
    results.push({ name: `replication into 1 store process, ${label}`, value: one, unit: 'MB/s', note: size })
    results.push({ name: `replication into 2 store processes, ${label}`, value: two, unit: 'MB/s', baselineName: '1 process', baseline: one, ratio: two / one, note: size })
  }
  try {
    const local = await measure(root, 'local', 1, await fresh(), env)
    results.push({ name: 'replication into 1 store process, local directory (pack stores)', value: local, unit: 'MB/s', note: `${size}; one process only by design` })
    let shared = 0
    await pair('shared filesystem on the local disk', () => `shared-fs:${join(root, `shared-${++shared}`)}`)
    const missing = await swiftMissing()
    if (missing !== undefined) {
      results.push({ name: 'replication into Swift (s3api)', value: 0, unit: '', note: `skipped: ${missing}` })
    } else {
      const swift = await startSwift()
      try {
        let bucket = 0
        const q = `endpoint=${encodeURIComponent(swift.endpoint)}&create=1`
        const s3env = { AWS_ACCESS_KEY_ID: swift.accessKeyId, AWS_SECRET_ACCESS_KEY: swift.secretAccessKey }
        await pair('Swift s3api on loopback', () => `s3://dcstore-bench-${++bucket}/?${q}`, s3env, async ({ dir, global, folders, discoveryKey }) => {
          // discovery export of one user from Swift (through a stopped-store command: reads every block back)
          const t0 = performance.now()
          await cli([...global, '--discovery-key', discoveryKey, 'discover', 'export', '--user', 'user0', '--to', join(dir, 'case')], { ...env, ...s3env })
          results.push({ name: 'discovery export from Swift s3api', value: MIB * 1.048576 / ((performance.now() - t0) / 1000), unit: 'MB/s', note: `one user, ${MIB} MiB, CLI start included` })
          // restic (Debian's) backing up the same folders into the same Swift through its s3 backend
          const restic = await findTool('restic')
          if (restic === undefined) return
          const renv = { ...process.env, ...s3env, RESTIC_PASSWORD: 'bench', RESTIC_REPOSITORY: `s3:${swift.endpoint}/restic-bench-${++bucket}` }
          const t1 = performance.now()
          try {
            await run$(restic, ['init'], { env: renv })
            await run$(restic, ['backup', '--quiet', ...folders], { env: renv, maxBuffer: 16 * 1024 * 1024 })
          } catch (err) {
            // restic 0.14 (Debian 12) signs uploads as aws-chunked streams, which Swift 2.30's s3api refuses
            const why = String((err as { stderr?: string }).stderr ?? (err as Error).message).trim().split('\n')[0].slice(0, 200)
            results.push({ name: 'restic backup into Swift s3api', value: 0, unit: '', note: `not measured: restic failed: ${why}` })
            return
          }
          const mb = NODES * MIB * 1.048576
          results.push({ name: 'restic backup into Swift s3api (same folders, one process)', value: mb / ((performance.now() - t1) / 1000), unit: 'MB/s', note: `${size}; restic ${restic}` })
        })
      } finally { await swift.stop() }
    }
  } finally {
    await cluster.stop()
    await rm(root, { recursive: true, force: true })
  }
  return results
}
