import { createHash } from 'node:crypto'
import { createReadStream } from 'node:fs'
import { mkdir, readdir } from 'node:fs/promises'
import { hostname } from 'node:os'
import { join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import { parseCid } from '@cachecloud/core'
import { decodeRecord, deriveUserKeys, findEntry, readFileContent, SafeFolder, unwrapUserKey, type UserKeys } from '@cachecloud/personal-format'
import { processWho, type AuditLog } from './audit.js'
import { REVIEW_EXPORT_FORMAT, REVIEW_FILES } from './constants.js'
import { sha256sumLine } from './discovery.js'
import { ContentMismatchOnDiskError, DiscoveryKeyRequiredError, ExportTargetNotEmptyError, InvalidTextSearchError, NoSnapshotError } from './errors.js'
import { writeFileAtomic600 as writeFileAtomic } from './fs.js'
import { DAT_MULTI, formatDat, type DatRecord } from './load-file.js'
import type { Matters } from './matters.js'
import { extensionOf } from './text-extract.js'
import type { TextSearch, TextSearchQuery } from './text-search.js'
import type { SnapshotRow, TextStatus, VersionIndex } from './version-index.js'

export interface ReviewExportInit {
  matter: string
  /** An empty or new folder. */
  to: string
  /** Some of the matter's custodians (default all). */
  custodians?: string[]
  /** Without `search`: what the custodians had at this time (default now). */
  at?: number
  /** Instead: the hits of this text search (itself audited in the matter). */
  search?: Omit<TextSearchQuery, 'matter' | 'custodians'>
}

/** One file version as selected. */
interface Version { user: string, node: string, path: string, sha256: string, size: number, mtimeMs: number, snapshot: string, snapshotMs: number }

/** One document of the export: one content, every custodian and path that held it. */
export interface ReviewDocument {
  docId: string
  sha256: string
  size: number
  /** Where its native is, relative to the export folder. */
  native: string
  custodians: string[]
  versions: Array<{ custodian: string, node: string, path: string, snapshot: string, snapshotTime: string, modified: string }>
  textStatus: TextStatus | 'pending'
}

export interface ReviewExportManifest {
  format: typeof REVIEW_EXPORT_FORMAT
  matter: string
  matterName: string
  selection: { custodians: string[], at?: string, search?: Record<string, unknown> }
  exportedAt: string
  exportedBy: string
  who: { user: string, uid: number, host: string, pid: number }
  snapshots: Array<{ custodian: string, node: string, snapshot: string, snapshotTime: string, committedAt: string }>
  documents: ReviewDocument[]
  /** SHA-256 of every file of the export but CUSTODY.txt (which lists them too). */
  files: Array<{ path: string, sha256: string, size: number }>
}

const iso = (ms: number): string => new Date(ms).toISOString()

async function hashFile (path: string): Promise<{ sha256: string, size: number }> {
  const h = createHash('sha256')
  let size = 0
  for await (const chunk of createReadStream(path) as AsyncIterable<Buffer>) { h.update(chunk); size += chunk.byteLength }
  return { sha256: h.digest('hex'), size }
}

/**
 * Review-ready exports of a matter: each distinct content once (deduplicated
 * across custodians by SHA-256, every custodian and path recorded), as a
 * native file named by its document id, with a Concordance DAT load file,
 * MANIFEST.json, SHA256SUMS and a chain-of-custody report (CUSTODY.txt); each
 * native's SHA-256 is checked against the snapshot while it is read and again
 * on disk after it is written. Audited against the matter, the custody
 * report's hash in the outcome.
 */
export class ReviewExporter {
  constructor (
    private readonly init: {
      index: VersionIndex,
      audit: AuditLog,
      blocksFor: (user: string) => Promise<Blockstore>,
      discoveryPrivateKey?: Uint8Array,
      operator: string,
      matters: Matters,
      text: TextSearch
    }
  ) {}

  async export (x: ReviewExportInit): Promise<ReviewExportManifest> {
    const matter = await this.init.matters.scope(x.matter)
    for (const c of x.custodians ?? []) await this.init.matters.scope(x.matter, c)
    if (x.search !== undefined && x.at !== undefined) throw new InvalidTextSearchError('export either a search\'s hits or the custodians at a time, not both')
    const custodians = x.custodians === undefined || x.custodians.length === 0 ? matter.custodians : [...new Set(x.custodians)]
    const at = x.search === undefined ? (x.at ?? Date.now()) : undefined
    const params = {
      matter: x.matter,
      custodians,
      to: x.to,
      ...(at === undefined ? {} : { at: iso(at) }),
      ...(x.search === undefined ? {} : { search: JSON.parse(JSON.stringify(x.search)) as Record<string, unknown> })
    }
    if (this.init.discoveryPrivateKey === undefined) throw new DiscoveryKeyRequiredError('exporting content needs the discovery private key (--discovery-key)')
    if ((await readdir(x.to).catch(() => [])).length > 0) throw new ExportTargetNotEmptyError(`${x.to} is not empty`)
    // a search is its own audited action in the matter; the export that follows names it in its params
    const versions = x.search === undefined ? undefined : (await this.init.text.search({ ...x.search, matter: x.matter, custodians })).hits
    return await this.init.audit.run('review-export', params, async () => {
      const selected: Version[] = versions ?? await this.atTime(custodians, at!)
      const selection = { custodians, ...(at === undefined ? {} : { at: iso(at) }), ...(params.search === undefined ? {} : { search: params.search }) }
      return await this.write(matter.id, matter.name, selection, x.to, selected)
    }, m => (
      {
        documents: m.documents.length,
        versions: m.documents.reduce((a, d) => a + d.versions.length, 0),
        snapshots: m.snapshots.map(s => s.snapshot),
        custody: m.files.find(f => f.path === REVIEW_FILES.custody)?.sha256
      }
    ))
  }

  private async atTime (custodians: string[], at: number): Promise<Version[]> {
    const out: Version[] = []
    let any = false
    for (const user of custodians) {
      for (const s of await this.init.index.latestSnapshots(user, at)) {
        any = true
        for (const f of await this.init.index.files(s.cid)) if (f.kind === 'file') out.push({ user, node: f.node, path: f.path, sha256: f.sha256, size: f.size, mtimeMs: f.mtimeMs, snapshot: s.cid, snapshotMs: s.timeMs })
      }
    }
    if (!any) throw new NoSnapshotError(`no snapshot of ${custodians.join(', ')} at or before ${iso(at)}`)
    return out
  }

  private async write (matterId: string, matterName: string, selection: ReviewExportManifest['selection'], to: string, selected: Version[]): Promise<ReviewExportManifest> {
    const privateKey = this.init.discoveryPrivateKey!
    selected.sort((a, b) => a.user < b.user ? -1 : a.user > b.user ? 1 : a.path < b.path ? -1 : a.path > b.path ? 1 : a.snapshotMs - b.snapshotMs)
    const byContent = new Map<string, Version[]>()
    for (const v of selected) byContent.set(v.sha256, [...(byContent.get(v.sha256) ?? []), v])
    const snapshotIds = [...new Set(selected.map(v => v.snapshot))]
    const status = new Map((await this.init.index.textCoverage({ snapshots: snapshotIds })).map(r => [r.sha256, r.status ?? 'pending' as const]))
    const snapshotRows = new Map<string, SnapshotRow>()
    for (const user of new Set(selected.map(v => v.user))) {
      for (const s of await this.init.index.snapshots({ user })) {
        if (snapshotIds.includes(s.cid)) {
          snapshotRows.set(
            s.cid,
            s
          )
        }
      }
    }

    await mkdir(to, { recursive: true })
    const folder = await SafeFolder.open(to)
    await folder.mkdirs(REVIEW_FILES.natives)
    const keys = new Map<string, { blocks: Blockstore, keys: UserKeys, root: ReturnType<typeof parseCid> }>()
    const open = async (v: Version): Promise<{ blocks: Blockstore, keys: UserKeys, root: ReturnType<typeof parseCid> }> => {
      let k = keys.get(v.snapshot)
      if (k === undefined) {
        const blocks = await this.init.blocksFor(v.user)
        const record = decodeRecord(await blocks.get(parseCid(v.snapshot)))
        k = { blocks, keys: deriveUserKeys(unwrapUserKey(record.keys.discovery, privateKey)), root: record.root }
        keys.set(v.snapshot, k)
      }
      return k
    }
    const prefix = matterId.replace(/[^A-Za-z0-9]/g, '').toUpperCase().slice(0, 16) || 'DOC'
    const documents: ReviewDocument[] = []
    const dat: DatRecord[] = []
    let n = 0
    for (const [sha256, vs] of byContent) {
      const first = vs[0]
      const docId = `${prefix}${String(++n).padStart(7, '0')}`
      const ext = extensionOf(first.path).replace(/[^a-z0-9]/g, '').slice(0, 16)
      const native = `${REVIEW_FILES.natives}/${docId}${ext === '' ? '' : '.' + ext}`
      const src = await open(first)
      const entry = await findEntry(src.blocks, src.keys, src.root, first.path)
      if (entry.kind !== 'file') throw new NoSnapshotError(`${first.path} is not a file in snapshot ${first.snapshot}`)
      // checked against the snapshot's SHA-256 while read (readFileContent), and again as written
      const abs = await folder.writeFile(native, readFileContent(src.blocks, src.keys, entry, first.path), { mode: 0o644, mtimeMs: entry.mtimeMs })
      const onDisk = await hashFile(abs)
      if (onDisk.sha256 !== sha256) throw new ContentMismatchOnDiskError(`${native}: written file has SHA-256 ${onDisk.sha256}, the snapshot records ${sha256}`)
      const custodians = [...new Set(vs.map(v => v.user))]
      const doc: ReviewDocument = {
        docId, sha256, size: first.size, native, custodians, textStatus: status.get(sha256) ?? 'pending',
        versions: vs.map(v => ({
          custodian: v.user,
          node: v.node,
          path: v.path,
          snapshot: v.snapshot,
          snapshotTime: iso(v.snapshotMs),
          modified: iso(v.mtimeMs)
        }))
      }
      documents.push(doc)
      dat.push({
        DOCID: docId, BEGATTACH: docId, ENDATTACH: docId, PARENT_DOCID: '', ATTACH_DOCIDS: '', CUSTODIAN: first.user, ALL_CUSTODIANS: custodians.join(DAT_MULTI),
        FILENAME: first.path.slice(first.path.lastIndexOf('/') + 1), FILE_EXTENSION: ext, ORIGINAL_PATH: first.path,
        ALL_PATHS: [...new Set(vs.map(v => `${v.user}:${v.path}`))].join(DAT_MULTI), FILE_SIZE: String(first.size), SHA256: sha256,
        DATE_MODIFIED: iso(first.mtimeMs), SNAPSHOT_TIME: iso(first.snapshotMs), SNAPSHOT: first.snapshot, NODE: first.node, NATIVE_PATH: native,
        TEXT_STATUS: doc.textStatus
      })
    }
    const who = processWho()
    const manifest: ReviewExportManifest = {
      format: REVIEW_EXPORT_FORMAT, matter: matterId, matterName, selection, exportedAt: new Date().toISOString(), exportedBy: this.init.operator,
      who: { user: who.user, uid: who.uid, host: who.host, pid: who.pid },
      snapshots: [...snapshotRows.values()].sort((a, b) => a.timeMs - b.timeMs).map(s => ({
        custodian: s.user,
        node: s.node,
        snapshot: s.cid,
        snapshotTime: iso(s.timeMs),
        committedAt: iso(s.committedMs)
      })),
      documents, files: []
    }
    await writeFileAtomic(join(to, REVIEW_FILES.loadFile), formatDat(dat))
    for (const d of documents) manifest.files.push({ path: d.native, sha256: d.sha256, size: d.size })
    manifest.files.push({ path: REVIEW_FILES.loadFile, ...await hashFile(join(to, REVIEW_FILES.loadFile)) })
    await writeFileAtomic(join(to, REVIEW_FILES.manifest), JSON.stringify(manifest, null, 2) + '\n')
    const all = [...manifest.files, { path: REVIEW_FILES.manifest, ...await hashFile(join(to, REVIEW_FILES.manifest)) }]
    await writeFileAtomic(join(to, REVIEW_FILES.sums), all.map(f => sha256sumLine(f.sha256, f.path)).join(''))
    all.push({ path: REVIEW_FILES.sums, ...await hashFile(join(to, REVIEW_FILES.sums)) })
    await writeFileAtomic(join(to, REVIEW_FILES.custody), custodyReport(manifest, all))
    manifest.files = [...all, { path: REVIEW_FILES.custody, ...await hashFile(join(to, REVIEW_FILES.custody)) }]
    return manifest
  }
}

/** The chain-of-custody report: what, when, by whom, from which snapshots, with every hash verified. */
function custodyReport (m: ReviewExportManifest, files: Array<{ path: string, sha256: string, size: number }>): string {
  const versions = m.documents.reduce((a, d) => a + d.versions.length, 0)
  return [
    'CHAIN OF CUSTODY',
    `Matter:        ${m.matter} (${m.matterName})`,
    `Selection:     ${m.selection.search === undefined ? `custodians ${m.selection.custodians.join(', ')} as at ${m.selection.at ?? ''}` : `hits of the text search ${JSON.stringify(m.selection.search)} over ${m.selection.custodians.join(', ')}`}`,
    `Exported at:   ${m.exportedAt}`,
    `Exported by:   ${m.exportedBy} (OS user ${m.who.user}, uid ${m.who.uid}, process ${m.who.pid} on ${m.who.host}; host ${hostname()})`,
    `Documents:     ${m.documents.length} distinct contents from ${versions} file versions (deduplicated by SHA-256 across custodians)`,
    'Verification:  each native was checked against the SHA-256 its snapshot records while it was read from the store, and again after it was written here.',
    '',
    'Source snapshots (custodian, node, snapshot, snapshot time, received by the store):',
    ...m.snapshots.map(s => `  ${s.custodian}  ${s.node}  ${s.snapshot}  ${s.snapshotTime}  ${s.committedAt}`),
    '',
    'Files of this export (SHA-256, bytes, path):',
    ...files.map(f => `  ${f.sha256}  ${String(f.size).padStart(12)}  ${f.path}`),
    ''
  ].join('\n')
}
