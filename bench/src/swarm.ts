import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import type { BenchResult } from './types.js'

/**
 * Swarm distribution over shaped links in network namespaces (issues 4 and 11): runs
 * infra/dist/src/bench.js (root needed: otherwise one skipped line) and reads
 * its results. Content: BENCH_SWARM_CONTENT (os, default: the OS-update benchmark's Debian
 * root filesystem as v1 and its apt-get update as v2; or synthetic: one BENCH_SWARM_MIB,
 * default 1024, image of random files); BENCH_SWARM_RATE (default 20mbit); HTTP baseline
 * BENCH_SWARM_HTTP (bound, default, or measure); see infra/README.md.
 */
export async function run (): Promise<BenchResult[]> {
  const script = fileURLToPath(new URL('../../../infra/dist/src/bench.js', import.meta.url))
  const child = spawn(process.execPath, [script], { stdio: ['ignore', 'pipe', 'inherit'] })
  let out = ''
  child.stdout.on('data', (d: Buffer) => { out += d.toString() })
  const code = await new Promise<number | null>(resolve => child.once('exit', resolve))
  if (code !== 0) throw new Error(`infra bench exited with ${code}`)
  return JSON.parse(out.trim().split('\n').pop() ?? '[]') as BenchResult[]
}
