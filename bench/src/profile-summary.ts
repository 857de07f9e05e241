#!/usr/bin/env node
/**
 * Top self-time functions of V8 CPU profiles (`node --cpu-prof`), summed
 * over samples, and the same time grouped by package (node_modules package,
 * workspace package, or node's own internals).
 *
 * `--busiest S`: only the S seconds with the most busy (non-idle) time,
 * so a short pull is not drowned by start-up (module compilation) and idle.
 *
 * `--during NAME`: only from the first to the last sample with a function
 * named NAME on its stack (`runBlockSession` for a puller, `serveBlocks` for a
 * source): the pull itself, however long the start-up.
 *
 * Run: node bench/dist/src/profile-summary.js FILE.cpuprofile... [--top N] [--busiest S] [--during NAME]
 */
import { readFile } from 'node:fs/promises'
import { basename } from 'node:path'

interface CallFrame { functionName: string, url: string, lineNumber: number }
interface ProfileNode { id: number, callFrame: CallFrame, children?: number[] }
interface CpuProfile { nodes: ProfileNode[], samples: number[], timeDeltas: number[] }

/** Microseconds of self time per key, over every sample of the profile. */
function selfTime (profile: CpuProfile, keyOf: (frame: CallFrame) => string, window?: readonly [number, number]): Map<string, number> {
  const byId = new Map(profile.nodes.map(n => [n.id, n.callFrame]))
  const totals = new Map<string, number>()
  profile.samples.forEach((id, i) => {
    if (window !== undefined && (i < window[0] || i >= window[1])) return
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

/** Sample indexes [from, to) of the `seconds`-long span with the most non-idle time. */
function busiestWindow (profile: CpuProfile, seconds: number): [number, number] {
  const idleIds = new Set(profile.nodes.filter(n => n.callFrame.functionName === '(idle)').map(n => n.id))
  const span = seconds * 1e6
  const duration = (i: number): number => Math.max(0, profile.timeDeltas[i + 1] ?? 0)
  let best: [number, number] = [0, 0]
  let bestBusy = -1
  let from = 0
  let elapsed = 0
  let busy = 0
  for (let to = 0; to < profile.samples.length; to++) {
    elapsed += duration(to)
    if (!idleIds.has(profile.samples[to])) busy += duration(to)
    while (elapsed > span && from < to) {
      elapsed -= duration(from)
      if (!idleIds.has(profile.samples[from])) busy -= duration(from)
      from++
    }
    if (busy > bestBusy) { bestBusy = busy; best = [from, to + 1] }
  }
  return best
}

/** Sample indexes [from, to) from the first to the last sample with `name` on its stack; undefined when none has. */
function spanOf (profile: CpuProfile, name: string): [number, number] | undefined {
  const parent = new Map<number, number>()
  for (const n of profile.nodes) for (const c of n.children ?? []) parent.set(c, n.id)
  const byId = new Map(profile.nodes.map(n => [n.id, n]))
  const within = new Map<number, boolean>()
  const has = (id: number): boolean => {
    const known = within.get(id)
    if (known !== undefined) return known
    const up = parent.get(id)
    const yes = byId.get(id)?.callFrame.functionName === name || (up !== undefined && has(up))
    within.set(id, yes)
    return yes
  }
  let first = -1
  let last = -1
  profile.samples.forEach((id, i) => { if (has(id)) { if (first < 0) first = i; last = i } })
  return first < 0 ? undefined : [first, last + 1]
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
const busiestAt = args.indexOf('--busiest')
const busiest = busiestAt >= 0 ? Number(args.splice(busiestAt, 2)[1]) : undefined
const duringAt = args.indexOf('--during')
const during = duringAt >= 0 ? args.splice(duringAt, 2)[1] : undefined
if (args.length === 0 || (busiest !== undefined && !(busiest > 0)) || (duringAt >= 0 && during === undefined)) {
  process.stderr.write('usage: profile-summary FILE.cpuprofile... [--top N] [--busiest SECONDS] [--during FUNCTION]\n')
  process.exit(2)
}
for (const path of args) {
  const profile = await load(path)
  const window = during !== undefined ? spanOf(profile, during) : busiest === undefined ? undefined : busiestWindow(profile, busiest)
  if (during !== undefined && window === undefined) throw new Error(`${path}: no sample has ${during} on its stack`)
  process.stdout.write(`== ${basename(path)}${during !== undefined ? ` (during ${during})` : busiest === undefined ? '' : ` (busiest ${busiest} s)`}\n`)
  process.stdout.write(table('self time by function', selfTime(profile, functionKey, window), top))
  process.stdout.write(table('self time by package', selfTime(profile, packageKey, window), 10) + '\n')
}
