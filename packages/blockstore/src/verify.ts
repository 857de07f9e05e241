/**
 * Read-side checks of a started store, for `cachepoint check` (in the manner
 * of restic check): the structure (every indexed block's pack on disk and
 * long enough for it, the index log on disk equal to what was committed),
 * and the data (every block, or a chosen set, read and decoded and hashed
 * against its CID). Nothing here changes the store: a damaged copy is
 * reported, not dropped (`repair` drops it). Data is read pack by pack in
 * offset order, several records per read, the next read in flight while the
 * current one is hashed, so the check runs near the disk's read-and-hash rate.
 * With a codec pool, each read's records are decoded and hashed on its
 * threads, a few reads at once, while this thread reads the next ones.
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { CID } from 'multiformats/cid'
import { MAX_BLOCK_BYTES, VERIFY_GAP_BYTES, VERIFY_SPAN_BYTES, VERIFY_SPANS_IN_FLIGHT } from './constants.js'
import { ownsWholeBuffer, type CodecPool, type StoredRecord } from '@cachecloud/codec'
import type { ProgressEvent } from '@cachecloud/core'
import { cidOfKey, isSupportedCid, keyOf } from './cid-key.js'
import { isNotFound } from './fs-util.js'
import { decodeBatches } from './index-log.js'
import type { Location } from './pack-appender.js'
import { headerBytesOf, packFileName, parseRecordHeader } from './pack-format.js'
import type { OpenStore } from './pack-blockstore.js'
import { decodeVerified, readRecord } from './record-read.js'

export interface StructureReport {
  /** Packs holding blocks, and blocks, that the index holds. */
  packs: number
  blocks: number
  /** Packs the index points into that are not on disk. */
  missingPacks: number[]
  /** Blocks whose record lies in a missing pack or past the end of its pack. */
  unreadable: CID[]
  /** What is wrong with the index log on disk (it differs from what was committed), or null. */
  indexLog: string | null
}

export interface VerifyOptions {
  /** The blocks to read (default: every block held). A CID not held is reported `missing`. */
  cids?: Iterable<CID>
  signal?: AbortSignal
  /** Stored bytes read so far, of all to read. */
  onProgress?: (event: ProgressEvent<'check:data'>) => void
}

export interface VerifyReport {
  /** Blocks read and hashed, their stored (on-disk) and decoded bytes. */
  blocks: number
  storedBytes: number
  rawBytes: number
  /** Blocks whose record is unreadable, does not decode, or does not hash to its CID. */
  corrupt: CID[]
  /** Blocks asked for that the index does not hold. */
  missing: CID[]
  durationMs: number
}

/** The structure check; `logPath`/`logBytes`: the index log file and the length committed to it. Run with no commit in progress. */
export async function checkStructure (open: OpenStore, packsDir: string, logPath: string, logBytes: number): Promise<StructureReport> {
  const sizes = new Map<number, number | undefined>()
  // packs that hold blocks (a pack whose blocks were all dropped is forgotten at the next start)
  for (const id of new Set([...open.index.entries.values()].map(e => e.pack))) {
    sizes.set(id, await fs.stat(join(packsDir, packFileName(id))).then(s => s.size, (err: unknown) => { if (isNotFound(err)) return undefined; throw err }))
  }
  const unreadable: CID[] = []
  for (const [key, entry] of open.index.entries) {
    const size = sizes.get(entry.pack)
    if (size === undefined || entry.offset + entry.length > size) unreadable.push(cidOfKey(key))
  }
  const missingPacks = [...sizes].filter(([, size]) => size === undefined).map(([id]) => id).sort((a, b) => a - b)
  return { packs: sizes.size, blocks: open.index.entries.size, missingPacks, unreadable, indexLog: await checkLog(logPath, logBytes) }
}

async function checkLog (path: string, committed: number): Promise<string | null> {
  let bytes: Buffer
  try {
    bytes = await fs.readFile(path)
  } catch (err) {
    if (isNotFound(err)) return `index log ${path} is missing (${committed} bytes were committed)`
    throw err
  }
  if (bytes.byteLength < committed) return `index log is ${bytes.byteLength} bytes, ${committed} were committed: ${committed - bytes.byteLength} bytes of committed index changes are lost`
  const { validBytes } = decodeBatches(bytes)
  if (validBytes < committed) return `index log is damaged at byte ${validBytes} of ${committed} committed`
  if (bytes.byteLength > committed) return `index log has ${bytes.byteLength - committed} bytes after its last commit`
  return null
}

interface Target { key: string, entry: Location }

/** Reads and hashes blocks (on `pool`'s threads when given); reports the damaged ones without changing the store. */
export async function verifyBlocks (open: OpenStore, packsDir: string, options: VerifyOptions = {}, pool?: CodecPool): Promise<VerifyReport> {
  const started = Date.now()
  const { index } = open
  const report: VerifyReport = { blocks: 0, storedBytes: 0, rawBytes: 0, corrupt: [], missing: [], durationMs: 0 }
  const targets: Target[] = []
  const keys = options.cids === undefined ? index.entries.keys() : uniqueKeys(options.cids, report.missing)
  for (const key of keys) {
    const entry = index.get(key)
    if (entry === undefined) report.missing.push(cidOfKey(key))
    else targets.push({ key, entry })
  }
  targets.sort((a, b) => a.entry.pack - b.entry.pack || a.entry.offset - b.entry.offset)
  const total = targets.reduce((sum, t) => sum + t.entry.length, 0)
  const spans = spansOf(targets)
  const handles = new PackHandles(packsDir)
  let done = 0
  let lastReport = 0
  // spans read and being hashed, oldest first; their results are taken in order
  const checking: Array<{ span: Span, results: Promise<boolean[]> }> = []
  const settle = async (): Promise<void> => {
    const { span, results } = checking.shift() as (typeof checking)[number]
    const oks = await results
    for (const [i, target] of span.targets.entries()) {
      if (oks[i] === true || await movedAndOk(open, target)) {
        report.blocks++
        report.storedBytes += target.entry.length
        report.rawBytes += target.entry.rawLength
      } else {
        report.corrupt.push(cidOfKey(target.key))
      }
      done += target.entry.length
    }
    if (options.onProgress !== undefined && Date.now() - lastReport > 200) {
      lastReport = Date.now()
      options.onProgress({ type: 'check:data', done, total })
    }
  }
  try {
    let next = spans.length > 0 ? handles.read(spans[0]) : undefined
    for (let i = 0; i < spans.length; i++) {
      options.signal?.throwIfAborted()
      const bytes = await (next as Promise<Buffer | undefined>)
      next = i + 1 < spans.length ? handles.read(spans[i + 1]) : undefined
      const span = spans[i] as Span
      checking.push({ span, results: checkSpan(span, bytes, pool) })
      if (pool === undefined || checking.length >= VERIFY_SPANS_IN_FLIGHT) await settle()
    }
    while (checking.length > 0) await settle()
    if (spans.length > 0) options.onProgress?.({ type: 'check:data', done, total })
    await next?.catch(() => {})
  } finally {
    await Promise.allSettled(checking.map(async c => await c.results))
    await handles.close()
  }
  report.durationMs = Date.now() - started
  return report
}

function * uniqueKeys (cids: Iterable<CID>, unsupported: CID[]): Generator<string> {
  const seen = new Set<string>()
  for (const cid of cids) {
    if (!isSupportedCid(cid)) { unsupported.push(cid); continue }
    const key = keyOf(cid)
    if (seen.has(key)) continue
    seen.add(key)
    yield key
  }
}

interface Span { pack: number, start: number, end: number, targets: Target[] }

/** Consecutive records of a pack, read together while the gaps between them are small and the read stays bounded. */
function spansOf (targets: Target[]): Span[] {
  const spans: Span[] = []
  let current: Span | undefined
  for (const target of targets) {
    const { entry } = target
    const start = entry.offset - headerBytesOf(entry.legacy, target.key.length)
    const end = entry.offset + entry.length
    const joins = current !== undefined && current.pack === entry.pack && start >= current.end &&
      start - current.end <= VERIFY_GAP_BYTES && end - current.start <= VERIFY_SPAN_BYTES
    if (current !== undefined && joins) {
      current.end = end
      current.targets.push(target)
    } else {
      current = { pack: entry.pack, start, end, targets: [target] }
      spans.push(current)
    }
  }
  return spans
}

/** Per target of a span read into `bytes` (undefined: its pack is gone): its record is the indexed one and decodes and hashes to its CID. */
async function checkSpan (span: Span, bytes: Buffer | undefined, pool: CodecPool | undefined): Promise<boolean[]> {
  if (bytes === undefined) return span.targets.map(() => false)
  const records = span.targets.map(target => recordAt(target, bytes, target.entry.offset - headerBytesOf(target.entry.legacy, target.key.length) - span.start))
  if (pool === undefined) {
    return records.map(
      r => r !== undefined &&
        decodeVerified(cidOfKey(r.key), { codec: r.codec, bytes: bytes.subarray(r.offset, r.offset + r.length), length: r.rawLength }) !== undefined
    )
  }
  const sound = records.filter((r): r is StoredRecord & { key: string } => r !== undefined)
  // the span was read into a buffer of its own: it moves to the thread
  const problems = await pool.verifyRecords(bytes, sound.map(({ key: _key, ...r }) => r), MAX_BLOCK_BYTES, ownsWholeBuffer(bytes))
  let next = 0
  return records.map(r => r !== undefined && problems[next++] === undefined)
}

/**
 * The stored bytes of the record at `at` in `bytes`, where its header names
 * the indexed block with the indexed lengths and codec; undefined otherwise.
 * (Its crc32 is not needed: the hash is checked.)
 */
function recordAt ({ key, entry }: Target, bytes: Buffer, at: number): (StoredRecord & { key: string }) | undefined {
  const header = parseRecordHeader(bytes.subarray(at))
  if (header === undefined || header.legacy !== entry.legacy || header.cid.toString('latin1') !== key) return undefined
  if (header.dataLength !== entry.length || header.rawLength !== entry.rawLength || header.codec !== entry.codec) return undefined
  const offset = at + header.headerBytes
  if (offset + entry.length > bytes.byteLength) return undefined
  return { key, offset, length: entry.length, codec: entry.codec, rawLength: entry.rawLength, digest: cidOfKey(key).multihash.digest }
}

/** gc may have moved a block (and deleted its old pack) while it was read: read it where the index points now. */
async function movedAndOk (open: OpenStore, target: Target): Promise<boolean> {
  const now = open.index.get(target.key)
  if (now === undefined || now === target.entry) return false
  const block = await readRecord(open.readers, target.key, now)
  return block !== undefined && decodeVerified(cidOfKey(target.key), block) !== undefined
}

/** Read handles of the packs being verified, one at a time (spans come pack by pack). */
class PackHandles {
  private current: { pack: number, handle: Promise<FileHandle | undefined> } | undefined

  constructor (private readonly dir: string) {}

  /** The span's bytes (shorter when the pack is), or undefined when the pack is gone. */
  async read (span: Span): Promise<Buffer | undefined> {
    if (this.current?.pack !== span.pack) {
      const old = this.current
      this.current = {
        pack: span.pack,
        handle: fs.open(join(this.dir, packFileName(span.pack)), 'r').catch((err: unknown) => { if (isNotFound(err)) return undefined; throw err })
      }
      void old?.handle.then(async h => { await h?.close() }, () => {})
    }
    const handle = await this.current.handle
    if (handle === undefined) return undefined
    const length = span.end - span.start
    const bytes = Buffer.allocUnsafe(length)
    let done = 0
    while (done < length) {
      const { bytesRead } = await handle.read(bytes, done, length - done, span.start + done)
      if (bytesRead === 0) break
      done += bytesRead
    }
    return done === length ? bytes : bytes.subarray(0, done)
  }

  async close (): Promise<void> {
    await this.current?.handle.then(async h => { await h?.close() }, () => {})
    this.current = undefined
  }
}
