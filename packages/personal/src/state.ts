import { appendFile, mkdir, open, readFile } from 'node:fs/promises'
import { dirname } from 'node:path'
import { parseCid, writeFileAtomic, type CID } from '@cachecloud/core'

// The node's per-folder state files (docs/formats/personal.md#node-state):
// scan cache, snapshot log, replicated set, user key.

/**
 * What a scan remembers of a file so that an unchanged file is not read
 * again: parsed once when the cache is loaded, and kept in the types a scan
 * compares and seals with (a scan of an unchanged folder then parses nothing).
 */
export interface CachedFile {
  size: bigint
  mtimeNs: bigint
  ctimeNs: bigint
  ino: bigint
  /** SHA-256 of the content. */
  sha256: Uint8Array
  /** Chunk CIDs (sealed blocks). */
  chunks: CID[]
  /** Their format (CHUNK_FORMAT); absent = 1 (cached before compression). */
  z?: number
}

/** A CachedFile in the cache file: decimal strings, hex, CID strings. */
interface CachedFileJson { size: string, mtimeNs: string, ctimeNs: string, ino: string, sha256: string, chunks: string[], z?: number }

function fileFromJson (f: CachedFileJson): CachedFile {
  if (typeof f.sha256 !== 'string' || !/^[0-9a-f]{64}$/.test(f.sha256) || !Array.isArray(f.chunks)) throw new Error('bad cached file')
  return {
    size: BigInt(f.size), mtimeNs: BigInt(f.mtimeNs), ctimeNs: BigInt(f.ctimeNs), ino: BigInt(f.ino),
    sha256: Buffer.from(f.sha256, 'hex'), chunks: f.chunks.map(c => parseCid(c)), ...(f.z === undefined ? {} : { z: f.z })
  }
}

function fileToJson (f: CachedFile): CachedFileJson {
  return {
    size: f.size.toString(), mtimeNs: f.mtimeNs.toString(), ctimeNs: f.ctimeNs.toString(), ino: f.ino.toString(),
    sha256: Buffer.from(f.sha256.buffer, f.sha256.byteOffset, f.sha256.byteLength).toString('hex'),
    chunks: f.chunks.map(c => c.toString()),
    ...(f.z === undefined ? {} : { z: f.z })
  }
}

/** A directory whose entries hash to `sig` sealed to `cid` (with its pages) last time: not sealed again. */
export interface CachedDir {
  sig: string
  cid: string
}

export interface ScanCache {
  files: Map<string, CachedFile>
  dirs: Map<string, CachedDir>
  /** Device id (decimal) of the folder at the last scan: an empty folder on another device is a missing mount. */
  device?: string
}

export function emptyScanCache (): ScanCache {
  return { files: new Map(), dirs: new Map() }
}

async function readIfExists (path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
    throw err
  }
}

export async function loadScanCache (path: string): Promise<ScanCache> {
  const text = await readIfExists(path)
  if (text === undefined) return emptyScanCache()
  try {
    const json = JSON.parse(text) as { files?: Record<string, CachedFileJson>, dirs?: Record<string, CachedDir>, device?: string }
    return {
      files: new Map(Object.entries(json.files ?? {}).map(([rel, f]) => [rel, fileFromJson(f)])),
      dirs: new Map(Object.entries(json.dirs ?? {})),
      ...(json.device === undefined ? {} : { device: json.device })
    }
  } catch {
    return emptyScanCache() // a damaged cache (unparsable, or an entry that is not a file's) only costs a full re-hash
  }
}

export async function saveScanCache (path: string, cache: ScanCache): Promise<void> {
  const files = Object.fromEntries([...cache.files].map(([rel, f]) => [rel, fileToJson(f)]))
  await writeFileAtomic(path, JSON.stringify({ files, dirs: Object.fromEntries(cache.dirs), device: cache.device }), { mode: 0o600 })
}

/** One line of the node's snapshot log. */
export interface LoggedSnapshot {
  cid: CID
  time: string
  root: CID
  parent: CID | null
  files: number
  bytes: number
  /** Sealed bytes this snapshot added to the local block store (what replication will send at most). */
  newBytes: number
}

interface LoggedLine { cid: string, time: string, root: string, parent: string | null, files: number, bytes: number, newBytes: number }

/** Appends and reads JSON lines; a torn last line (crash mid-append) is ignored. */
async function readLines<T> (path: string): Promise<T[]> {
  const text = await readIfExists(path)
  if (text === undefined) return []
  const out: T[] = []
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue
    try { out.push(JSON.parse(line) as T) } catch { /* torn line */ }
  }
  return out
}

async function appendLine (path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true })
  // a torn previous line is isolated by the leading newline
  await appendFile(path, '\n' + JSON.stringify(value) + '\n')
  const handle = await open(path, 'r')
  try { await handle.sync() } finally { await handle.close() }
}

export async function readSnapshotLog (path: string): Promise<LoggedSnapshot[]> {
  return (await readLines<LoggedLine>(path)).map(l => ({
    ...l, cid: parseCid(l.cid), root: parseCid(l.root), parent: l.parent === null ? null : parseCid(l.parent)
  }))
}

export async function appendSnapshotLog (path: string, s: LoggedSnapshot): Promise<void> {
  await appendLine(path, { ...s, cid: s.cid.toString(), root: s.root.toString(), parent: s.parent?.toString() ?? null })
}

export async function readReplicated (path: string): Promise<Set<string>> {
  return new Set((await readLines<{ cid: string }>(path)).map(l => l.cid))
}

export async function appendReplicated (path: string, cid: CID): Promise<void> {
  await appendLine(path, { cid: cid.toString(), at: new Date().toISOString() })
}

export { readIfExists }

/** What this node last merged from other nodes (docs/formats/personal.md#node-state). */
export interface MergeBase {
  /** Per remote node: the last snapshot merged completely, the base of the next merge with that node (its blocks are kept locally). */
  merged: Record<string, { cid: string, root: string, time: string }>
}

export async function loadMergeBase (path: string): Promise<MergeBase> {
  const text = await readIfExists(path)
  if (text === undefined) return { merged: {} }
  const json = JSON.parse(text) as { merged?: MergeBase['merged'] }
  return { merged: json.merged ?? {} }
}

export async function saveMergeBase (path: string, base: MergeBase): Promise<void> {
  await writeFileAtomic(path, JSON.stringify({ merged: base.merged }), { mode: 0o600 })
}
