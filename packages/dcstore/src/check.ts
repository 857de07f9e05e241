/**
 * `dcstore check`: the integrity of the store, in the manner of restic check.
 * For every user: the block store's files (VERSION, index log, packs), every
 * snapshot the index records (its record, and its tree walked through the
 * plaintext links of its directory blocks: every block referenced present),
 * and with `readData` every block (or a subset of packs) read and verified
 * against its CID. Nothing is written: the stores are read without being
 * opened (store-scan.ts). Report format: docs/formats/dcstore.md#check.
 */
import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import { CID, DAG_CBOR_CODEC, parseCid } from '@cachecloud/core'
import { dirLinks } from '@cachecloud/personal-format'
import { CHECK_MAX_DEPTH, CHECK_MAX_LISTED, STORE_FILES } from './constants.js'
import { PackReader, scanStore, verifyPack, type BlockLoc, type StoreScan } from './store-scan.js'
import type { PendingRepair } from './repair-pending.js'
import type { SnapshotRow, VersionIndex } from './version-index.js'

/** Which packs `readData` reads: the n-th of m parts (by pack id), or a random share of each store's bytes. */
export type CheckSubset = { n: number, m: number } | { percent: number }

export interface CheckOptions {
  readData?: boolean
  subset?: CheckSubset
  onProgress?: (e: CheckProgress) => void
}

export interface CheckProgress {
  type: 'check:read'
  doneBytes: number
  totalBytes: number
  doneBlocks: number
  totalBlocks: number
}

/** `awaiting-replication`: snapshots a repair left lacking blocks, which their node's next replication re-sends (`node` names it). */
export type CheckDamageKind = 'store-missing' | 'version' | 'index-log' | 'pack-missing' | 'pack-short' | 'block-missing' | 'block-corrupt' | 'awaiting-replication'

export interface CheckDamage {
  user: string
  kind: CheckDamageKind
  message: string
  /** How many blocks it concerns, and the first CHECK_MAX_LISTED of them. */
  blocks: number
  cids: string[]
  /** awaiting-replication: the node that must replicate. */
  node?: string
}

/** A snapshot that cannot be restored whole. */
export interface AffectedSnapshot {
  user: string
  node: string
  snapshot: string
  time: string
  /** References to blocks that are missing or fail verification (a block referenced twice counts twice). */
  badBlocks: number
  /** Recorded by a repair (repair-pending.json): since when it waits for its node to replicate, and how many blocks the node answered it lacks. */
  waiting?: { since: string, unavailable: number }
}

export interface CheckReport {
  ok: boolean
  readData: boolean
  users: number
  snapshots: number
  /** Distinct blocks the snapshots reference. */
  referencedBlocks: number
  /** Blocks and bytes read and verified by readData. */
  readBlocks: number
  readBytes: number
  seconds: number
  damage: CheckDamage[]
  affected: AffectedSnapshot[]
}

const decodeKey = (key: string): CID => CID.decode(Buffer.from(key, 'latin1'))
const keyOf = (cid: CID): string => Buffer.from(cid.bytes.buffer, cid.bytes.byteOffset, cid.bytes.byteLength).toString('latin1')

function pickPacks (scan: StoreScan, subset: CheckSubset | undefined): Set<number> {
  const ids = [...new Set([...scan.blocks.values()].map(b => b.pack))].sort((a, b) => a - b)
  if (subset === undefined) return new Set(ids)
  if ('n' in subset) return new Set(ids.filter(id => (id - 1) % subset.m === subset.n - 1))
  const bytes = new Map<number, number>()
  for (const b of scan.blocks.values()) bytes.set(b.pack, (bytes.get(b.pack) ?? 0) + b.length)
  const total = [...bytes.values()].reduce((a, b) => a + b, 0)
  const shuffled = ids.map(id => ({ id, r: Math.random() })).sort((a, b) => a.r - b.r).map(x => x.id)
  const chosen = new Set<number>()
  let sum = 0
  for (const id of shuffled) {
    if (sum >= total * subset.percent / 100) break
    chosen.add(id)
    sum += bytes.get(id) ?? 0
  }
  return chosen
}

class Damage {
  readonly list: CheckDamage[] = []
  add (user: string, kind: CheckDamageKind, message: string, keys: string[]): void {
    this.list.push({ user, kind, message, blocks: keys.length, cids: keys.slice(0, CHECK_MAX_LISTED).map(k => decodeKey(k).toString()) })
  }
}

/** Walks one user's snapshots: the bad blocks below each directory, memoized (subtrees are shared between snapshots). */
class Walker {
  readonly missing = new Set<string>()
  readonly corrupt = new Set<string>()
  private readonly memo = new Map<string, number>()
  constructor (private readonly scan: StoreScan, private readonly reader: PackReader, readCorrupt: Set<string>) {
    for (const k of readCorrupt) this.corrupt.add(k)
  }

  /** Bad blocks in the DAG below (and including) `cid`. */
  async bad (cid: CID, depth = 0): Promise<number> {
    const key = keyOf(cid)
    let n = this.memo.get(key)
    if (n === undefined) { n = await this.walk(cid, key, depth); this.memo.set(key, n) }
    return n
  }

  /** A snapshot record: present and verified (read), not walked (the tree is walked from the record's root). */
  async record (cid: CID): Promise<number> {
    const key = keyOf(cid)
    let n = this.memo.get(key)
    if (n === undefined) {
      const loc = this.scan.blocks.get(key)
      if (loc === undefined) {
        this.missing.add(key); n = 1
      } else if (this.corrupt.has(key) || await this.reader.read(loc) === undefined) {
        this.corrupt.add(key); n = 1
      } else n = 0
      this.memo.set(key, n)
    }
    return n
  }

  referenced (): number { return this.memo.size }

  private async walk (cid: CID, key: string, depth: number): Promise<number> {
    const loc: BlockLoc | undefined = this.scan.blocks.get(key)
    if (loc === undefined) { this.missing.add(key); return 1 }
    if (this.corrupt.has(key)) return 1
    if (cid.code !== DAG_CBOR_CODEC) return 0
    const bytes = await this.reader.read(loc)
    if (bytes === undefined) { this.corrupt.add(key); return 1 }
    if (depth > CHECK_MAX_DEPTH) { this.corrupt.add(key); return 1 }
    let links: CID[]
    try { links = dirLinks(bytes) } catch { this.corrupt.add(key); return 1 }
    let n = 0
    for (const link of links) n += await this.bad(link, depth + 1)
    return n
  }
}

/** Snapshots by user, in index order. */
export function snapshotsByUser (snapshots: SnapshotRow[]): Map<string, SnapshotRow[]> {
  const byUser = new Map<string, SnapshotRow[]>()
  for (const s of snapshots) {
    const list = byUser.get(s.user)
    if (list === undefined) byUser.set(s.user, [s]); else list.push(s)
  }
  return byUser
}

/** A report before anything is read: healthy until damage is added to `damage`. */
export function newCheckReport (options: CheckOptions, users: number, snapshots: number, damage: CheckDamage[]): CheckReport {
  return { ok: true, readData: options.readData === true, users, snapshots, referencedBlocks: 0, readBlocks: 0, readBytes: 0, seconds: 0, damage, affected: [] }
}

/** What the repair needs of a check beyond its report. */
export interface CheckInternals {
  /** Filled per user with every indexed block (binary key, latin1) that is lost or failed verification: the entries a repair drops. */
  drop?: Map<string, Set<string>>
  /** Snapshots a repair left waiting for blocks (repair-pending.json). */
  pending?: PendingRepair[]
}

/** Adds the waiting note to affected snapshots a repair recorded, and one awaiting-replication damage per user and node. */
export function noteWaiting (report: CheckReport, pending: PendingRepair[] | undefined): void {
  if (pending === undefined || pending.length === 0) return
  const byCid = new Map(pending.map(p => [p.snapshot, p]))
  const groups = new Map<string, AffectedSnapshot[]>()
  for (const a of report.affected) {
    const p = byCid.get(a.snapshot)
    if (p === undefined) continue
    a.waiting = { since: p.since, unavailable: p.unavailable }
    const key = `${a.user}\0${a.node}`
    const list = groups.get(key)
    if (list === undefined) groups.set(key, [a]); else list.push(a)
  }
  // the blocks those snapshots miss were dropped by the repair: say so where they are counted
  for (const d of report.damage) {
    if (d.kind === 'block-missing' && report.affected.filter(a => a.user === d.user).every(a => a.waiting !== undefined)) d.message += ' (a repair dropped them: they come back when the nodes named below replicate)'
  }
  for (const list of groups.values()) {
    const { user, node } = list[0]
    const lacking = list.filter(a => (a.waiting?.unavailable ?? 0) > 0).length
    const n = list.length
    report.damage.push({
      user, node, kind: 'awaiting-replication', blocks: list.reduce((sum, a) => sum + a.badBlocks, 0), cids: [],
      message: `${n} snapshot${n === 1 ? '' : 's'} of node ${node} lack${n === 1 ? 's' : ''} blocks a repair dropped: node ${node} must replicate user ${user} (its next replication re-sends them)` +
        (lacking > 0 ? `; the node answered that it no longer has blocks of ${lacking} of them` : '')
    })
  }
}

export async function runCheck (index: VersionIndex, dataDir: string, options: CheckOptions = {}, internals: CheckInternals = {}): Promise<CheckReport> {
  const t0 = Date.now()
  const blocksDir = join(dataDir, STORE_FILES.blocks)
  const snapshots = await index.snapshots({})
  const byUser = snapshotsByUser(snapshots)
  for (const name of await readdir(blocksDir).catch(() => [] as string[])) if (!byUser.has(name)) byUser.set(name, [])
  const users = [...byUser.keys()].sort()
  const damage = new Damage()
  const report = newCheckReport(options, users.length, snapshots.length, damage.list)

  const scans = new Map<string, StoreScan>()
  for (const user of users) {
    const scan = await scanStore(join(blocksDir, user))
    scans.set(user, scan)
    for (const d of scan.damage) damage.add(user, d.kind, d.message, d.lost)
  }

  // readData: every block of the chosen packs, each pack read sequentially
  const readCorrupt = new Map<string, Set<string>>(users.map(u => [u, new Set<string>()]))
  if (options.readData === true) {
    const work: Array<{ user: string, pack: number, locs: BlockLoc[] }> = []
    for (const user of users) {
      const scan = scans.get(user)!
      const chosen = pickPacks(scan, options.subset)
      const perPack = new Map<number, BlockLoc[]>()
      for (const loc of scan.blocks.values()) {
        if (!chosen.has(loc.pack)) continue
        const list = perPack.get(loc.pack)
        if (list === undefined) perPack.set(loc.pack, [loc]); else list.push(loc)
      }
      for (const [pack, locs] of [...perPack].sort((a, b) => a[0] - b[0])) work.push({ user, pack, locs })
    }
    const progress: CheckProgress = { type: 'check:read', doneBytes: 0, totalBytes: 0, doneBlocks: 0, totalBlocks: 0 }
    for (const w of work) for (const l of w.locs) { progress.totalBytes += l.length; progress.totalBlocks++ }
    options.onProgress?.({ ...progress })
    for (const w of work) {
      await verifyPack(join(blocksDir, w.user), w.pack, w.locs, (loc, ok) => {
        progress.doneBytes += loc.length
        progress.doneBlocks++
        if (!ok) readCorrupt.get(w.user)!.add(loc.key)
      })
      options.onProgress?.({ ...progress })
    }
    report.readBlocks = progress.doneBlocks
    report.readBytes = progress.doneBytes
  }

  // every snapshot: its record and every block of its tree present (directories read and verified on the way)
  for (const user of users) {
    const scan = scans.get(user)!
    const reader = new PackReader(join(blocksDir, user))
    const walker = new Walker(scan, reader, readCorrupt.get(user)!)
    try {
      for (const s of byUser.get(user)!) {
        const bad = await walker.record(parseCid(s.cid)) + await walker.bad(parseCid(s.root))
        if (bad > 0) report.affected.push({ user, node: s.node, snapshot: s.cid, time: new Date(s.timeMs).toISOString(), badBlocks: bad })
      }
    } finally { await reader.close() }
    report.referencedBlocks += walker.referenced()
    const fileLost = new Set(scan.damage.flatMap(d => d.lost))
    if (internals.drop !== undefined) internals.drop.set(user, new Set([...fileLost, ...walker.corrupt, ...readCorrupt.get(user)!]))
    const missing = [...walker.missing].filter(k => !fileLost.has(k))
    if (missing.length > 0) damage.add(user, 'block-missing', `${missing.length} referenced block${missing.length === 1 ? ' is' : 's are'} not in the index${scan.damage.some(d => d.kind === 'index-log') ? ' (its damaged tail may have held them)' : ''}`, missing)
    if (walker.corrupt.size > 0) damage.add(user, 'block-corrupt', `${walker.corrupt.size} block${walker.corrupt.size === 1 ? '' : 's'} failed verification (their bytes do not hash to their CID, or their record is damaged)`, [...walker.corrupt])
  }
  noteWaiting(report, internals.pending)
  report.ok = damage.list.length === 0
  report.seconds = (Date.now() - t0) / 1000
  return report
}
