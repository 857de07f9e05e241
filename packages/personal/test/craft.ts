import { createHash } from 'node:crypto'
import { cidOf, type CID } from '@cachecloud/core'
import { CHUNKER_ID } from '@cachecloud/chunker'
import {
  CHUNK_FORMAT, deriveUserKeys, encodeRecord, generateUserKey, sealBlock, sealDir, signRecord, SNAPSHOT_FORMAT, wrapUserKey,
  type DirEntry, type Entry, type FileEntry, type SigningKey, type SnapshotRecord, type SymlinkEntry, type UserKeys
} from '../src/index.js'

/**
 * Hand-built sealed trees, made with the package's own encoder (sealBlock,
 * sealDir), for tests of what a forged or hostile tree can do: duplicate
 * names, symlinks in the way, setuid modes.
 */
export class Crafter {
  readonly blocks = new Map<string, { cid: CID, bytes: Uint8Array }>()
  readonly keys: UserKeys
  constructor (readonly userKey: Uint8Array = generateUserKey()) { this.keys = deriveUserKeys(userKey) }

  private put (cid: CID, bytes: Uint8Array): void { this.blocks.set(cid.toString(), { cid, bytes }) }

  file (name: string, content: string | Uint8Array, mode = 0o644, mtimeMs = Date.parse('2026-11-01T00:00:00Z')): FileEntry {
    const plain = typeof content === 'string' ? Buffer.from(content) : content
    const sealed = sealBlock(this.keys, plain)
    const cid = cidOf(sealed)
    this.put(cid, sealed)
    return { kind: 'file', name, mode, mtimeMs, size: plain.byteLength, sha256: createHash('sha256').update(plain).digest(), chunks: [cid] }
  }

  /** A file whose one chunk is sealed in format 2 from `inner` as given (a flag and a payload, honest or not); `content` is what it claims to hold. */
  flaggedFile (name: string, inner: Uint8Array, content: Uint8Array): FileEntry {
    const sealed = sealBlock(this.keys, inner)
    const cid = cidOf(sealed)
    this.put(cid, sealed)
    return { kind: 'file', name, mode: 0o644, mtimeMs: Date.parse('2026-11-01T00:00:00Z'), size: content.byteLength, sha256: createHash('sha256').update(content).digest(), chunks: [cid], chunkFormat: CHUNK_FORMAT.flagged }
  }

  link (name: string, target: string): SymlinkEntry {
    return { kind: 'symlink', name, mode: 0o777, mtimeMs: Date.parse('2026-11-01T00:00:00Z'), target }
  }

  /** A directory block (sealDir sorts, and keeps duplicate names: what a forger does). */
  dirBlock (entries: Entry[]): CID {
    const sealed = sealDir(this.keys, entries)
    this.put(sealed.cid, sealed.bytes)
    for (const p of sealed.pages) this.put(p.cid, p.bytes)
    return sealed.cid
  }

  dir (name: string, entries: Entry[], mode = 0o755): DirEntry {
    return { kind: 'dir', name, mode, mtimeMs: Date.parse('2026-11-01T00:00:00Z'), dir: this.dirBlock(entries) }
  }

  /** A snapshot record naming `root` (its user key wrapped for the discovery key), stored with the blocks. */
  record (init: {
    user: string,
    node: string,
    discoveryPublicKey: Uint8Array,
    root: CID,
    time?: string,
    parent?: CID | null,
    files?: number,
    bytes?: number,
    sign?: SigningKey
  }): { cid: CID, bytes: Uint8Array, record: SnapshotRecord } {
    const unsigned: SnapshotRecord = {
      format: SNAPSHOT_FORMAT, user: init.user, node: init.node, time: init.time ?? new Date().toISOString(), parent: init.parent ?? null, root: init.root,
      chunker: CHUNKER_ID, keys: { discovery: wrapUserKey(this.userKey, init.discoveryPublicKey), user: null }, files: init.files ?? 0, bytes: init.bytes ?? 0
    }
    const record = init.sign === undefined ? unsigned : signRecord(unsigned, init.sign)
    const encoded = encodeRecord(record)
    this.put(encoded.cid, encoded.bytes)
    return { ...encoded, record }
  }

  /** Copies every crafted block into a block store. */
  async storeInto (blockstore: { put: (cid: CID, bytes: Uint8Array) => Promise<unknown>, sync: () => Promise<void> }): Promise<void> {
    for (const b of this.blocks.values()) await blockstore.put(b.cid, b.bytes)
    await blockstore.sync()
  }

  /** A block source over what was crafted. */
  get source (): { get: (cid: CID) => Promise<Uint8Array> } {
    return {
      get: async (cid: CID) => {
        const b = this.blocks.get(cid.toString())
        if (b === undefined) throw new Error(`no block ${cid.toString()}`)
        return b.bytes
      }
    }
  }
}
