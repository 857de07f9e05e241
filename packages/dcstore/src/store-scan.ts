/**
 * A read-only view of one user's block store for `check`: its index log is
 * decoded and its packs read without opening the store, because opening it
 * recovers it (cuts a damaged index tail, drops the blocks of a missing pack)
 * and would erase the very damage a check must report. Format:
 * docs/formats/blockstore.md.
 */
import { hash } from 'node:crypto'
import { open, readdir, readFile, stat, type FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import {
  BLOCKSTORE_VERSION_2_TEXT, BLOCKSTORE_VERSION_TEXT, crcMatches, decodeBatches, headerBytesOf, INDEX_FILE, MAX_BLOCK_BYTES,
  PACKS_DIR, packFileName, packIdOf, parseRecordHeader, VERSION_FILE
} from '@cachecloud/blockstore'
import { BlockDecodeError, CODEC_RAW, decodeBlock, type Codec } from '@cachecloud/codec'

/** Where a block's stored bytes are, as the index log says. */
export interface BlockLoc {
  /** The binary CID, latin1 (as the index log keys it). */
  key: string
  pack: number
  offset: number
  length: number
  codec: Codec
  rawLength: number
  legacy: boolean
}

/** Damage to the store's files themselves (not to one block). */
export interface FileDamage {
  kind: 'store-missing' | 'version' | 'index-log' | 'pack-missing' | 'pack-short'
  message: string
  /** Blocks the index named that this damage makes unreadable. */
  lost: string[]
}

export interface StoreScan {
  /** Indexed blocks whose pack holds their bytes (presence only; not yet read). */
  blocks: Map<string, BlockLoc>
  damage: FileDamage[]
  /** Bytes of each pack file on disk. */
  packSizes: Map<number, number>
}

/** Reads a store's VERSION, index log and pack list; nothing is written. */
export async function scanStore (dir: string): Promise<StoreScan> {
  const damage: FileDamage[] = []
  const blocks = new Map<string, BlockLoc>()
  const packSizes = new Map<number, number>()
  const version = await readFile(join(dir, VERSION_FILE), 'latin1').catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
  if (version === undefined) {
    damage.push({ kind: 'store-missing', message: `${dir} holds no block store (no ${VERSION_FILE})`, lost: [] })
    return { blocks, damage, packSizes }
  }
  if (version !== BLOCKSTORE_VERSION_TEXT && version !== BLOCKSTORE_VERSION_2_TEXT) damage.push({ kind: 'version', message: `${VERSION_FILE} is ${JSON.stringify(version.slice(0, 40))}, not a block store format this check reads`, lost: [] })
  const log = await readFile(join(dir, INDEX_FILE)).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return Buffer.alloc(0); throw err })
  const { batches, validBytes } = decodeBatches(log)
  if (validBytes < log.byteLength) {
    damage.push({ kind: 'index-log', message: `${INDEX_FILE}: ${log.byteLength - validBytes} of ${log.byteLength} bytes after offset ${validBytes} are not a valid batch (truncated, torn or overwritten): the blocks committed there are not in the index`, lost: [] })
  }
  const committed = new Map<number, number>()
  for (const b of batches) {
    for (const p of b.packs) committed.set(p.id, p.size)
    for (const op of b.ops) {
      if (op.type === 'delete') blocks.delete(op.key)
      else blocks.set(op.key, { key: op.key, pack: op.pack, offset: op.offset, length: op.length, codec: op.codec, rawLength: op.rawLength, legacy: op.legacy })
    }
  }
  const names = await readdir(join(dir, PACKS_DIR)).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return [] as string[]; throw err })
  for (const name of names) {
    const id = packIdOf(name)
    if (id !== undefined) packSizes.set(id, (await stat(join(dir, PACKS_DIR, name))).size)
  }
  // the blocks of each pack that its file no longer holds whole
  const missing = new Map<number, string[]>()
  const short = new Map<number, { lost: string[], need: number }>()
  for (const loc of blocks.values()) {
    const size = packSizes.get(loc.pack)
    const end = loc.offset + loc.length
    if (size === undefined) {
      const list = missing.get(loc.pack)
      if (list === undefined) missing.set(loc.pack, [loc.key]); else list.push(loc.key)
    } else if (end > size) {
      const s = short.get(loc.pack) ?? { lost: [], need: 0 }
      s.lost.push(loc.key)
      s.need = Math.max(s.need, end)
      short.set(loc.pack, s)
    }
  }
  for (const [pack, lost] of missing) damage.push({ kind: 'pack-missing', message: `${PACKS_DIR}/${packFileName(pack)} is missing: ${lost.length} indexed block${lost.length === 1 ? '' : 's'} lost`, lost })
  for (const [pack, { lost, need }] of short) damage.push({ kind: 'pack-short', message: `${PACKS_DIR}/${packFileName(pack)} is ${packSizes.get(pack)} bytes, shorter than its indexed blocks need (${need}): ${lost.length} block${lost.length === 1 ? '' : 's'} lost`, lost })
  for (const [pack, size] of committed) {
    const onDisk = packSizes.get(pack)
    if (onDisk !== undefined && onDisk < size && !short.has(pack)) damage.push({ kind: 'pack-short', message: `${PACKS_DIR}/${packFileName(pack)} is ${onDisk} bytes, shorter than its committed length ${size}`, lost: [] })
  }
  for (const d of damage) for (const key of d.lost) blocks.delete(key)
  return { blocks, damage, packSizes }
}

/**
 * Checks one record as read from its pack: the header names the CID, lengths
 * and codec the index says, and the stored bytes decode to bytes whose
 * SHA-256 is the CID's (sealed blocks: the hash of the ciphertext, all the
 * store can check without the user's key). For a raw record the SHA-256 is
 * stronger than the record's CRC-32, which is then not computed.
 */
export function verifyRecord (loc: BlockLoc, record: Buffer): Uint8Array | undefined {
  const headerBytes = headerBytesOf(loc.legacy, loc.key.length)
  if (record.byteLength !== headerBytes + loc.length) return undefined
  const header = parseRecordHeader(record)
  if (
    header === undefined ||
    header.headerBytes !== headerBytes ||
    header.legacy !== loc.legacy ||
    header.dataLength !== loc.length ||
    header.rawLength !== loc.rawLength ||
    header.codec !== loc.codec
  ) return undefined
  const key = Buffer.from(loc.key, 'latin1')
  if (!header.cid.equals(key)) return undefined
  const data = record.subarray(headerBytes)
  let raw: Uint8Array = data
  if (loc.codec !== CODEC_RAW) {
    if (!crcMatches(header, data)) return undefined
    try {
      raw = decodeBlock(
        { codec: loc.codec, bytes: data, length: loc.rawLength },
        MAX_BLOCK_BYTES
      )
    } catch (err) { if (err instanceof BlockDecodeError) return undefined; throw err }
  }
  // the digest a binary CID names is its last 32 bytes (`01 <codec> 12 20 <digest>`)
  if (!sha256(raw).equals(key.subarray(key.byteLength - 32))) return undefined
  return raw
}

/** One-shot SHA-256 (crypto.hash: no Hash object per block, which costs at 32 KiB blocks). */
const sha256 = (bytes: Uint8Array): Buffer => hash('sha256', bytes, 'buffer') as unknown as Buffer

/** Reads single blocks (the snapshot walk's directories) from a store's packs, a few handles open. */
export class PackReader {
  private readonly handles = new Map<number, Promise<FileHandle>>()
  constructor (private readonly dir: string) {}

  /** The block's verified raw bytes, or undefined when its record is damaged or unreadable. */
  async read (loc: BlockLoc): Promise<Uint8Array | undefined> {
    const headerBytes = headerBytesOf(loc.legacy, loc.key.length)
    let h = this.handles.get(loc.pack)
    if (h === undefined) {
      if (this.handles.size >= 16) await this.close()
      h = open(join(this.dir, PACKS_DIR, packFileName(loc.pack)), 'r')
      this.handles.set(loc.pack, h)
    }
    const handle = await h.catch(() => undefined)
    if (handle === undefined || loc.offset < headerBytes) return undefined
    const buf = Buffer.allocUnsafe(headerBytes + loc.length)
    const { bytesRead } = await handle.read(buf, 0, buf.byteLength, loc.offset - headerBytes)
    return verifyRecord(loc, buf.subarray(0, bytesRead))
  }

  async close (): Promise<void> {
    for (const h of this.handles.values()) await (await h.catch(() => undefined))?.close()
    this.handles.clear()
  }
}

/** Most bytes one sequential read of a pack covers. */
const READ_WINDOW_BYTES = 16 * 1024 * 1024

/**
 * Reads and verifies every given block of one pack, in file order, in large
 * sequential reads with the next read in flight while the current window is
 * hashed. Calls `onBlock` per block with whether it verified.
 */
export async function verifyPack (dir: string, pack: number, locs: BlockLoc[], onBlock: (loc: BlockLoc, ok: boolean) => void): Promise<void> {
  const sorted = [...locs].sort((a, b) => a.offset - b.offset)
  // windows of adjacent records, each at most READ_WINDOW_BYTES (a single larger record gets its own)
  const windows: Array<{ start: number, end: number, locs: BlockLoc[] }> = []
  for (const loc of sorted) {
    const start = loc.offset - headerBytesOf(loc.legacy, loc.key.length)
    const end = loc.offset + loc.length
    const w = windows.at(-1)
    if (w !== undefined && start >= w.end && start - w.end < 64 * 1024 && end - w.start <= READ_WINDOW_BYTES) { w.end = end; w.locs.push(loc) } else {
      windows.push({
        start,
        end,
        locs: [loc]
      })
    }
  }
  let handle: FileHandle
  try { handle = await open(join(dir, PACKS_DIR, packFileName(pack)), 'r') } catch { for (const loc of sorted) onBlock(loc, false); return }
  try {
    // two buffers, reused: a fresh 16 MiB allocation per window costs its page faults on every read
    const spare = [Buffer.allocUnsafe(READ_WINDOW_BYTES), Buffer.allocUnsafe(READ_WINDOW_BYTES)]
    let turn = 0
    const readWindow = async (w: { start: number, end: number }): Promise<Buffer> => {
      if (w.start < 0) return Buffer.alloc(0)
      const len = w.end - w.start
      const buf = len <= READ_WINDOW_BYTES ? spare[turn++ % 2] : Buffer.allocUnsafe(len)
      const { bytesRead } = await handle.read(buf, 0, len, w.start)
      return buf.subarray(0, bytesRead)
    }
    let next = windows.length > 0 ? readWindow(windows[0]) : undefined
    for (let i = 0; i < windows.length; i++) {
      const buf = await next!
      next = i + 1 < windows.length ? readWindow(windows[i + 1]) : undefined
      const w = windows[i]
      for (const loc of w.locs) {
        const from = loc.offset - headerBytesOf(loc.legacy, loc.key.length) - w.start
        const to = loc.offset + loc.length - w.start
        onBlock(loc, from >= 0 && to <= buf.byteLength && verifyRecord(loc, buf.subarray(from, to)) !== undefined)
      }
    }
  } finally {
    await handle.close()
  }
}
