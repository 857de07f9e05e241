import { BlockCorruptError, type Blockstore, type BlockstoreStats, type GcResult, type StructureReport, type VerifyOptions, type VerifyReport } from '@cachecloud/blockstore'
import { CODEC_RAW, decodeBlock, type EncodedBlock } from '@cachecloud/codec'
import { cidOf, type CID } from '@cachecloud/core'
import type { BlockBackend } from './backend.js'
import { blockDamageOf } from './backend-checks.js'
import { MAX_BACKEND_BLOCK_BYTES } from './constants.js'

/**
 * One user's blocks on an object backend (shared filesystem, S3), seen as the
 * Blockstore the replication server, discovery and retention use. Blocks are
 * kept raw (they arrive sealed: ciphertext does not compress); there are no
 * packs, so gc deletes the dead blocks and there is nothing to repack.
 */
/** One BackendBlockstore per user of a backend, made on first use (what a backend's `blockstore(user)` answers). */
export class BackendViews {
  private readonly views = new Map<string, Blockstore>()
  constructor (private readonly backend: BlockBackend) {}

  of (user: string): Blockstore {
    let view = this.views.get(user)
    if (view === undefined) { view = new BackendBlockstore(this.backend, user); this.views.set(user, view) }
    return view
  }
}

export class BackendBlockstore implements Blockstore {
  constructor (private readonly backend: BlockBackend, private readonly user: string) {}

  async start (): Promise<void> {}
  async stop (): Promise<void> { await this.sync() }
  async has (cid: CID): Promise<boolean> { return await this.backend.has(this.user, cid) }
  async get (cid: CID): Promise<Uint8Array> { return await this.backend.get(this.user, cid) }
  async getEncoded (cid: CID): Promise<EncodedBlock> {
    const bytes = await this.get(cid)
    return { codec: CODEC_RAW, bytes, length: bytes.byteLength }
  }

  async put (cid: CID, bytes: Uint8Array): Promise<boolean> { return await this.backend.put(this.user, cid, bytes) }
  async putEncoded (cid: CID, block: EncodedBlock): Promise<boolean> {
    let bytes: Uint8Array
    try { bytes = decodeBlock(block, MAX_BACKEND_BLOCK_BYTES) } catch (err) { throw new BlockCorruptError(`block ${cid.toString()} does not decode: ${(err as Error).message}`) }
    return await this.put(cid, bytes)
  }

  async putBytes (bytes: Uint8Array): Promise<{ cid: CID, written: boolean }> {
    const cid = cidOf(bytes)
    return { cid, written: await this.put(cid, bytes) }
  }

  async storedSize (cid: CID): Promise<number | undefined> { return await this.backend.size(this.user, cid) }
  async delete (cid: CID): Promise<void> { await this.backend.delete(this.user, cid) }
  async sync (): Promise<void> { await this.backend.sync(this.user) }
  cids (): AsyncIterable<CID> { return this.backend.cids(this.user) }

  async stats (): Promise<BlockstoreStats> {
    let blocks = 0
    let bytes = 0
    for await (const cid of this.cids()) { blocks++; bytes += await this.storedSize(cid) ?? 0 }
    return { blocks, bytes, storedBytes: bytes }
  }

  async gc (isLive: (cid: CID) => boolean): Promise<GcResult> {
    const result: GcResult = { removed: 0, freedBytes: 0, kept: 0 }
    const dead: CID[] = []
    // listed first, deleted after: a listing is not disturbed by its own deletions
    for await (const cid of this.cids()) { if (isLive(cid)) result.kept++; else dead.push(cid) }
    for (const cid of dead) {
      const size = await this.storedSize(cid)
      await this.delete(cid)
      result.removed++
      result.freedBytes += size ?? 0
    }
    return result
  }

  async checkStructure (): Promise<StructureReport> {
    let blocks = 0
    for await (const _ of this.cids()) blocks++
    return { packs: 0, blocks, missingPacks: [], unreadable: [], indexLog: null }
  }

  async verify (options: VerifyOptions = {}): Promise<VerifyReport> {
    const started = Date.now()
    const report: VerifyReport = { blocks: 0, storedBytes: 0, rawBytes: 0, corrupt: [], missing: [], durationMs: 0 }
    const cids = options.cids ?? this.cids()
    for await (const cid of cids) {
      options.signal?.throwIfAborted()
      try {
        const bytes = await this.get(cid)
        report.blocks++
        report.storedBytes += bytes.byteLength
        report.rawBytes += bytes.byteLength
      } catch (err) {
        // a stored block over the limit is damage too, not a reason to stop checking
        const damage = blockDamageOf(err)
        if (damage === 'missing') report.missing.push(cid)
        else if (damage === 'corrupt') report.corrupt.push(cid)
        else throw err
      }
    }
    report.durationMs = Date.now() - started
    return report
  }

  async repair (damaged: Iterable<CID>): Promise<void> {
    for (const cid of damaged) await this.delete(cid)
  }
}
