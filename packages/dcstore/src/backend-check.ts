/**
 * `dcstore check` on an object backend (shared filesystem, S3): there are no
 * packs or index log to scan, so every snapshot's record and tree is walked
 * through the backend (directories read and verified on the way, each chunk
 * looked up), and with `readData` every block the backend lists for the user
 * is read and hashed against its CID. Same report as the local check
 * (docs/formats/dcstore.md#check).
 */
import { DAG_CBOR_CODEC, parseCid, type CID } from '@cachecloud/core'
import { dirLinks } from '@cachecloud/personal-format'
import { blockDamageOf } from './backend-checks.js'
import type { BlockBackend } from './backend.js'
import { newCheckReport, snapshotsByUser, type CheckDamage, type CheckOptions, type CheckProgress, type CheckReport } from './check.js'
import { CHECK_MAX_DEPTH, CHECK_MAX_LISTED } from './constants.js'
import type { VersionIndex } from './version-index.js'

class BackendWalker {
  readonly missing = new Set<string>()
  readonly corrupt = new Set<string>()
  private readonly memo = new Map<string, number>()
  constructor (private readonly backend: BlockBackend, private readonly user: string) {}

  referenced (): number { return this.memo.size }

  async bad (cid: CID, depth = 0): Promise<number> {
    const key = cid.toString()
    let n = this.memo.get(key)
    if (n === undefined) { n = await this.walk(cid, key, depth); this.memo.set(key, n) }
    return n
  }

  private async walk (cid: CID, key: string, depth: number): Promise<number> {
    if (this.corrupt.has(key)) return 1
    if (cid.code !== DAG_CBOR_CODEC) {
      if (await this.backend.has(this.user, cid)) return 0
      this.missing.add(key)
      return 1
    }
    let links: CID[]
    try {
      if (depth > CHECK_MAX_DEPTH) throw Object.assign(new Error('too deep'), { code: 'ERR_BLOCK_CORRUPT' })
      links = dirLinks(await this.backend.get(this.user, cid))
    } catch (err) {
      const kind = blockDamageOf(err)
      if (kind === undefined) throw err
      if (kind === 'missing') this.missing.add(key); else this.corrupt.add(key)
      return 1
    }
    let n = 0
    for (const link of links) n += await this.bad(link, depth + 1)
    return n
  }

  /** A snapshot's record block: present and verified. */
  async record (cid: CID): Promise<number> {
    const key = cid.toString()
    if (this.memo.has(key)) return this.memo.get(key)!
    let n = 0
    try { await this.backend.get(this.user, cid) } catch (err) {
      const kind = blockDamageOf(err)
      if (kind === undefined) throw err
      if (kind === 'missing') this.missing.add(key); else this.corrupt.add(key)
      n = 1
    }
    this.memo.set(key, n)
    return n
  }
}

/** Whether the i-th listed block (of a user) is in the chosen subset. */
const chosen = (options: CheckOptions, i: number): boolean => {
  const s = options.subset
  if (s === undefined) return true
  if ('n' in s) return i % s.m === s.n - 1
  return Math.random() * 100 < s.percent
}

export async function runBackendCheck (index: VersionIndex, backend: BlockBackend, options: CheckOptions = {}): Promise<CheckReport> {
  const t0 = Date.now()
  const snapshots = await index.snapshots({})
  const byUser = snapshotsByUser(snapshots)
  const users = [...byUser.keys()].sort()
  const damage: CheckDamage[] = []
  const add = (user: string, kind: CheckDamage['kind'], message: string, keys: string[]): void => { damage.push({ user, kind, message, blocks: keys.length, cids: keys.slice(0, CHECK_MAX_LISTED) }) }
  const report = newCheckReport(options, users.length, snapshots.length, damage)
  const progress: CheckProgress = { type: 'check:read', doneBytes: 0, totalBytes: 0, doneBlocks: 0, totalBlocks: 0 }
  for (const user of users) {
    const walker = new BackendWalker(backend, user)
    if (options.readData === true) {
      let i = 0
      for await (const cid of backend.cids(user)) {
        if (!chosen(options, i++)) continue
        progress.totalBlocks++
        try {
          const bytes = await backend.get(user, cid)
          progress.doneBytes += bytes.byteLength
          progress.totalBytes += bytes.byteLength
        } catch (err) {
          if (blockDamageOf(err) === undefined) throw err
          walker.corrupt.add(cid.toString())
        }
        progress.doneBlocks++
        options.onProgress?.({ ...progress })
      }
    }
    for (const s of byUser.get(user)!) {
      const bad = await walker.record(parseCid(s.cid)) + await walker.bad(parseCid(s.root))
      if (bad > 0) report.affected.push({ user, node: s.node, snapshot: s.cid, time: new Date(s.timeMs).toISOString(), badBlocks: bad })
    }
    report.referencedBlocks += walker.referenced()
    if (walker.missing.size > 0) add(user, 'block-missing', `${walker.missing.size} referenced block${walker.missing.size === 1 ? ' is' : 's are'} not in the ${backend.kind} backend`, [...walker.missing])
    if (walker.corrupt.size > 0) add(user, 'block-corrupt', `${walker.corrupt.size} block${walker.corrupt.size === 1 ? '' : 's'} failed verification (their bytes do not hash to their CID)`, [...walker.corrupt])
  }
  report.readBlocks = progress.doneBlocks
  report.readBytes = progress.doneBytes
  report.ok = damage.length === 0
  report.seconds = (Date.now() - t0) / 1000
  return report
}
