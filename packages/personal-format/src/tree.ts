import * as dagCbor from '@ipld/dag-cbor'
import { cidOf, DAG_CBOR_CODEC, type CID } from '@cachecloud/core'
import { createHash, createHmac } from 'node:crypto'
import { CHUNK_FORMAT, DIR_FORMAT, DIR_FORMAT_V4, ENTRY_KIND, MAX_BLOCK_ENTRIES, MAX_DIR_BLOCK_BYTES, MAX_RECORD_BYTES, RECORD_SIGNATURE_BYTES, PAGE_BOUNDARY_ODDS, PAGE_MAX_ENTRIES, PAGE_THRESHOLD, SNAPSHOT_FORMAT, WRAPPED_KEY_BYTES } from './constants.js'
import { openBlock, sealBlock, type SealingKeys, type UserKeys } from './crypto.js'
import type { ChunkFormat } from './chunk-seal.js'
import { DirectoryOrderError, InvalidPersonalFormatError } from './errors.js'
import { bytes, cid, decodeCbor, fail, int, isObj, str, type Obj } from './decode.js'
import { decodeEntryWith } from './entry-decode.js'
import { encodeDirBlockCbor, encodeEntryCbor } from './entry-cbor.js'
import { openV3 } from './tree-v3.js'

// The snapshot tree (docs/formats/personal.md#tree): a plaintext record names
// the root directory block; each directory block is dag-cbor
// { l: [links], s: sealed entries }, so the store can walk the DAG and check
// completeness without any key, while names, sizes, times and the mapping of
// chunks to files stay sealed.

/** `chunkFormat`: the format its chunks are sealed in (CHUNK_FORMAT; absent = 1, written before compression). */
export interface FileEntry { kind: 'file', name: string, mode: number, mtimeMs: number, size: number, sha256: Uint8Array, chunks: CID[], chunkFormat?: ChunkFormat }
export interface DirEntry { kind: 'dir', name: string, mode: number, mtimeMs: number, dir: CID }
export interface SymlinkEntry { kind: 'symlink', name: string, mode: number, mtimeMs: number, target: string }
export type Entry = FileEntry | DirEntry | SymlinkEntry

/** A snapshot record: the only plaintext part of a snapshot. Its dag-cbor CID names the snapshot. */
export interface SnapshotRecord {
  format: typeof SNAPSHOT_FORMAT
  user: string
  /** libp2p peer id of the node that took it. */
  node: string
  /** ISO-8601 UTC time the scan started. */
  time: string
  /** Previous snapshot of this user on this node. */
  parent: CID | null
  /** Root directory block. */
  root: CID
  /** Chunking algorithm id (CHUNKER_ID). */
  chunker: string
  /** The user key sealed for the organization's discovery key, and for the user's own key (if configured). */
  keys: { discovery: Uint8Array, user: Uint8Array | null }
  /** Regular files and their total bytes (plaintext). */
  files: number
  bytes: number
  /** Ed25519 signature by the user's signing key (sign.ts); absent on a record of a machine without the user's key pair. */
  sig?: Uint8Array
}

const KIND = ENTRY_KIND

// Format 4: each entry is sealed on its own (an unchanged entry seals to the
// same bytes, so a changed block can be sent as a delta of its previous
// version), and the block's links are the entries' links in entry order: a
// file's chunks, then a directory's block, each entry consuming as many as it
// names. A sealed header authenticates the links and entries together.

function encodeEntry (e: Entry): Obj {
  // literals, not spreads: a scan encodes one per file
  if (e.kind === 'file') {
    const file: Obj = { n: e.name, k: KIND.file, p: e.mode, m: e.mtimeMs, s: e.size, h: e.sha256, c: e.chunks.length }
    if (e.chunkFormat === CHUNK_FORMAT.flagged) file.z = CHUNK_FORMAT.flagged
    return file
  }
  if (e.kind === 'dir') return { n: e.name, k: KIND.dir, p: e.mode, m: e.mtimeMs }
  return { n: e.name, k: KIND.symlink, p: e.mode, m: e.mtimeMs, t: e.target }
}

/** Decodes one entry, taking its links from `links` at `at.i` (advanced). */
function decodeEntry (v: unknown, links: CID[], at: { i: number }): Entry {
  const take = (n: number): CID[] => {
    if (at.i + n > links.length) fail('entry names more links than the block has')
    const out = links.slice(at.i, at.i + n); at.i += n
    return out
  }
  return decodeEntryWith(v, { chunks: e => take(int(e.c, 'chunk count')), dir: () => take(1)[0] })
}

function linksOfEntry (e: Entry): CID[] {
  return e.kind === 'file' ? e.chunks : e.kind === 'dir' ? [e.dir] : []
}

export interface SealedBlock { cid: CID, bytes: Uint8Array }

/**
 * SHA-256 binding a block's links and sealed entries (kept in its sealed header):
 * over u32be(link count), then each link's CID bytes after a u8 length, then
 * u32be(entry count), then each sealed entry after a u32be length.
 */
function bodyHash (links: CID[], entries: Uint8Array[]): Uint8Array {
  // one buffer, one update: a block of a hundred entries is otherwise some four hundred tiny updates
  let size = 8
  for (const l of links) size += 1 + l.bytes.byteLength
  for (const e of entries) size += 4 + e.byteLength
  const body = Buffer.allocUnsafe(size)
  let at = body.writeUInt32BE(links.length, 0)
  for (const l of links) { at = body.writeUInt8(l.bytes.byteLength, at); body.set(l.bytes, at); at += l.bytes.byteLength }
  at = body.writeUInt32BE(entries.length, at)
  for (const e of entries) { at = body.writeUInt32BE(e.byteLength, at); body.set(e, at); at += e.byteLength }
  return createHash('sha256').update(body).digest()
}

function encodeDirBlock (keys: SealingKeys, links: CID[], entries: Uint8Array[], paged: boolean): SealedBlock {
  const header = { f: DIR_FORMAT, h: bodyHash(links, entries), ...(paged ? { g: true } : {}) }
  const block = encodeDirBlockCbor(links, entries, sealBlock(keys, dagCbor.encode(header)))
  if (block.byteLength > MAX_DIR_BLOCK_BYTES) throw new InvalidPersonalFormatError(`directory block of ${block.byteLength} bytes exceeds ${MAX_DIR_BLOCK_BYTES}`)
  return { cid: cidOf(block, DAG_CBOR_CODEC), bytes: block }
}

/** One entry sealed on its own, as a directory block holds it (deterministic for one user). */
export function sealEntry (keys: SealingKeys, e: Entry): Uint8Array {
  return sealBlock(keys, encodeEntryCbor(encodeEntry(e)))
}

/** An entry sealed beforehand (sealEntry, e.g. on a sealing thread) and, when known, whether a page ends after it (pageBoundary). */
export interface Presealed { entry: Uint8Array, boundary?: boolean }

/** True when a page of a paged directory may end after the entry named `name` (its keyed name hash is below 1/PAGE_BOUNDARY_ODDS). */
export function pageBoundary (keys: SealingKeys, name: string): boolean {
  return createHmac('sha256', keys.nonceKey).update('page\0' + name).digest()[0] < 256 / PAGE_BOUNDARY_ODDS
}

/** One block holding `sorted` entries; `presealed`: entries already sealed. */
function sealEntries (keys: SealingKeys, sorted: Entry[], presealed?: Map<Entry, Presealed>): SealedBlock {
  return encodeDirBlock(keys, sorted.flatMap(linksOfEntry), sorted.map(e => presealed?.get(e)?.entry ?? sealEntry(keys, e)), false)
}

/**
 * Seals a directory (entries sorted by name). Deterministic for one user. A
 * directory of more than PAGE_THRESHOLD entries is split into pages that end
 * after an entry whose keyed name hash falls below 1/PAGE_BOUNDARY_ODDS (or at
 * PAGE_MAX_ENTRIES), so an edit re-seals one page and the small top block
 * instead of the whole directory, and an insertion moves no other page
 * boundary (a cut does not depend on the page's length, except at
 * PAGE_MAX_ENTRIES). Returns the directory's block and its pages (all to be stored).
 * `presealed`: entries sealed beforehand with sealEntry (the same bytes), with their page boundaries where known.
 */
export function sealDir (keys: SealingKeys, entries: Entry[], presealed?: Map<Entry, Presealed>): SealedBlock & { pages: SealedBlock[] } {
  const sorted = [...entries].sort((a, b) => a.name < b.name ? -1 : a.name > b.name ? 1 : 0)
  if (sorted.length <= PAGE_THRESHOLD) return { ...sealEntries(keys, sorted, presealed), pages: [] }
  const groups: Entry[][] = [[]]
  for (const e of sorted) {
    const page = groups[groups.length - 1]
    page.push(e)
    const boundary = presealed?.get(e)?.boundary ?? pageBoundary(keys, e.name)
    if (boundary || page.length >= PAGE_MAX_ENTRIES) groups.push([])
  }
  if (groups[groups.length - 1].length === 0) groups.pop()
  const pages = groups.map(g => sealEntries(keys, g, presealed))
  const top = encodeDirBlock(keys, pages.map(p => p.cid), [], true)
  return { ...top, pages }
}

/** The plaintext parts of a directory block: what the store walks (and deltas act on), without a key. */
export interface DirBlockParts { l: CID[], e: Uint8Array[], s: Uint8Array }

export function decodeDirParts (block: Uint8Array): DirBlockParts {
  const v = decodeCbor(block, 'directory block')
  if (!isObj(v) || !Array.isArray(v.l) || !Array.isArray(v.e)) return fail('directory block: no link or entry list')
  if (v.e.length > MAX_BLOCK_ENTRIES) return fail(`directory block of ${v.e.length} entries: at most ${MAX_BLOCK_ENTRIES}`)
  return { l: (v.l as unknown[]).map(c => cid(c, 'link')), e: (v.e as unknown[]).map(b => bytes(b, 'sealed entry')), s: bytes(v.s, 'sealed header') }
}

export function encodeDirParts (parts: DirBlockParts): Uint8Array {
  return dagCbor.encode({ l: parts.l, e: parts.e, s: parts.s })
}

/** The plaintext links of a directory block (format 3 or 4): what the store walks, without a key. */
export function dirLinks (block: Uint8Array): CID[] {
  const v = decodeCbor(block, 'directory block')
  if (!isObj(v) || !Array.isArray(v.l)) return fail('directory block: no link list')
  return (v.l as unknown[]).map(c => cid(c, 'link'))
}

/** The order sealDir writes entries in (JavaScript string order, UTF-16 code units). */
const byName = (a: string, b: string): number => a < b ? -1 : a > b ? 1 : 0

/**
 * Entries must be sorted by name, each name once: a forged block naming `docs`
 * twice (a symlink, then a directory) would otherwise make a restore write
 * through the symlink.
 */
export function assertSortedNames (entries: Entry[], from = 0): void {
  for (let i = Math.max(1, from); i < entries.length; i++) {
    const order = byName(entries[i - 1].name, entries[i].name)
    if (order === 0) throw new DirectoryOrderError(`directory names ${JSON.stringify(entries[i].name)} twice`)
    if (order > 0) throw new DirectoryOrderError(`directory entries are not sorted by name (${JSON.stringify(entries[i - 1].name)} before ${JSON.stringify(entries[i].name)})`)
  }
}

/** An opened directory block: a paged top names its pages, any other block its entries. */
export interface OpenedDir { paged: boolean, pages: CID[], entries: Entry[] }

function openV4 (keys: UserKeys, block: Uint8Array): OpenedDir {
  const { l, e, s } = decodeDirParts(block)
  const header = decodeCbor(openBlock(keys, s, 'directory header'), 'directory header')
  if (!isObj(header) || (header.f !== DIR_FORMAT && header.f !== DIR_FORMAT_V4)) return fail(`directory header: format is not ${DIR_FORMAT} or ${DIR_FORMAT_V4}`)
  const h = bytes(header.h, 'body hash')
  if (!Buffer.from(h).equals(bodyHash(l, e))) fail('directory block: links or entries do not match its sealed header')
  if (header.g === true) {
    if (e.length > 0) fail('a paged directory has no entries of its own')
    return { paged: true, pages: l, entries: [] }
  }
  const at = { i: 0 }
  const entries = e.map(sealed => decodeEntry(decodeCbor(openBlock(keys, sealed, 'directory entry'), 'directory entry'), l, at))
  if (at.i !== l.length) fail('directory block has links no entry names')
  assertSortedNames(entries)
  return { paged: false, pages: [], entries }
}

/** Opens a directory block of format 5 or 4 (one layout), or of format 3 (read only: blocks written before format 4). */
export function openDirBlock (keys: UserKeys, block: Uint8Array): OpenedDir {
  const v = decodeCbor(block, 'directory block')
  if (isObj(v) && v.e === undefined) {
    const opened = openV3(keys, v)
    assertSortedNames(opened.entries)
    return opened
  }
  return openV4(keys, block)
}

/** Opens one directory block or page: its entries (empty for the top block of a paged directory). */
export function openDir (keys: UserKeys, block: Uint8Array): Entry[] {
  return openDirBlock(keys, block).entries
}

/** The pages of a directory block (itself when it is not paged). */
export function dirPages (keys: UserKeys, dir: CID, block: Uint8Array): CID[] {
  const node = openDirBlock(keys, block)
  return node.paged ? node.pages : [dir]
}

/** Reads a whole directory by CID, following its pages. */
export async function readDir (blocks: { get: (cid: CID) => Promise<Uint8Array> }, keys: UserKeys, dir: CID): Promise<Entry[]> {
  const node = openDirBlock(keys, await blocks.get(dir))
  if (!node.paged) return node.entries
  const entries: Entry[] = []
  for (const page of node.pages) {
    const opened = openDirBlock(keys, await blocks.get(page))
    if (opened.paged) fail('a page cannot have pages')
    const from = entries.length
    entries.push(...opened.entries)
    assertSortedNames(entries, from) // across the page boundary too
  }
  return entries
}

export function encodeRecord (record: SnapshotRecord): { cid: CID, bytes: Uint8Array } {
  const data = dagCbor.encode(record)
  return { cid: cidOf(data, DAG_CBOR_CODEC), bytes: data }
}

export function decodeRecord (data: Uint8Array): SnapshotRecord {
  if (data.byteLength > MAX_RECORD_BYTES) fail('snapshot record too large')
  const v = decodeCbor(data, 'snapshot record')
  if (!isObj(v) || v.format !== SNAPSHOT_FORMAT) return fail(`snapshot record: format is not ${SNAPSHOT_FORMAT}`)
  const keys = isObj(v.keys) ? v.keys : fail('snapshot record: keys')
  const discovery = bytes(keys.discovery, 'discovery key')
  const user = keys.user === null ? null : bytes(keys.user, 'user key')
  if (discovery.byteLength !== WRAPPED_KEY_BYTES || (user !== null && user.byteLength !== WRAPPED_KEY_BYTES)) fail('wrapped key length')
  if (v.sig !== undefined && bytes(v.sig, 'signature').byteLength !== RECORD_SIGNATURE_BYTES) fail(`signature: not ${RECORD_SIGNATURE_BYTES} bytes`)
  const time = str(v.time, 'time')
  if (Number.isNaN(Date.parse(time))) fail('time: not ISO-8601')
  return {
    format: SNAPSHOT_FORMAT,
    user: str(v.user, 'user'),
    node: str(v.node, 'node'),
    time,
    parent: v.parent === null ? null : cid(v.parent, 'parent'),
    root: cid(v.root, 'root'),
    chunker: str(v.chunker, 'chunker'),
    keys: { discovery, user },
    files: int(v.files, 'files'),
    bytes: int(v.bytes, 'bytes'),
    ...(v.sig === undefined ? {} : { sig: bytes(v.sig, 'signature') })
  }
}
