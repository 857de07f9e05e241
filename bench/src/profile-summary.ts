#!/usr/bin/env node
/**
 * Top self-time functions of V8 CPU profiles (`node --cpu-prof`), summed
 * over samples, and the same time grouped by package (node_modules package,
 * workspace package, or node's own internals).
 *
 * Run: node bench/dist/src/profile-summary.js FILE.cpuprofile... [--top N]
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

/** Microseconds of self time per key, over every sample of the profile. */
function selfTime (profile: CpuProfile, keyOf: (frame: CallFrame) => string): Map<string, number> {
  const byId = new Map(profile.nodes.map(n => [n.id, n.callFrame]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id)
    if (frame === undefined) return
    const key = keyOf(frame)
    // a sample's time is the delta to the next one
    totals.set(key, (totals.get(key) ?? 0) + Math.max(0, profile.timeDeltas[i + 1] ?? 0))
  })
  return totals
}

/** Where a frame's code lives, short: `internal/crypto/hash`, `@libp2p/utils/dist/src/x.js`, `packages/transfer/dist/src/y.js`. */
function shortUrl (url: string): string {
  if (url.startsWith('node:')) return url.slice('node:'.length)
  const inModules = url.lastIndexOf('node_modules/')
  if (inModules >= 0) return url.slice(inModules + 'node_modules/'.length)
  const ours = /\/((?:packages|apps)\/.*)$/.exec(url)
  return ours !== null ? ours[1] : basename(url)
}

const functionKey = (f: CallFrame): string => f.url === '' ? (f.functionName || '(anonymous)') : `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`

function packageKey (f: CallFrame): string {
  if (f.url === '') return f.functionName
  if (f.url.startsWith('node:')) return 'node internals'
  const mod = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(f.url)
  if (mod !== null) return mod[1]
  const ours = /\/(packages|apps)\/([^/]+)\//.exec(f.url)
  return ours !== null ? `${ours[1]}/${ours[2]}` : f.url
}

function table (title: string, totals: Map<string, number>, top: number): string {
  const all = [...totals.values()].reduce((a, b) => a + b, 0)
  const busy = all - (totals.get('(idle)') ?? 0)
  const rows = [...totals.entries()].filter(([k]) => k !== '(idle)').sort((a, b) => b[1] - a[1]).slice(0, top)
  const lines = rows.map(([k, us]) => `${(100 * us / busy).toFixed(1).padStart(5)}%  ${(us / 1e6).toFixed(2).padStart(7)} s  ${k}`)
  return `${title}: ${(busy / 1e6).toFixed(2)} s busy of ${(all / 1e6).toFixed(2)} s sampled (percent of busy time)\n${lines.join('\n')}\n`
}

async function load (path: string): Promise<CpuProfile> {
  const profile = JSON.parse(await readFile(path, 'utf8')) as Partial<CpuProfile>
  if (!Array.isArray(profile.nodes) || !Array.isArray(profile.samples) || !Array.isArray(profile.timeDeltas)) {
    throw new Error(`${path} is not a V8 CPU profile (expected nodes, samples and timeDeltas)`)
  }
  return profile as CpuProfile
}

const args = process.argv.slice(2)
const topAt = args.indexOf('--top')
const top = topAt >= 0 ? Number(args.splice(topAt, 2)[1]) : 15
if (args.length === 0) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile... [--top N]\n')
  process.exit(2)
}
for (const path of args) {
  const profile = await load(path)
  process.stdout.write(`== ${basename(path)}\n`)
  process.stdout.write(table('self time by function', selfTime(profile, functionKey), top))
  process.stdout.write(table('self time by package', selfTime(profile, packageKey), 10) + '\n')
}
