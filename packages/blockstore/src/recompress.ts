/**
 * Recompression at rest: blocks stored at a fast zstd level (an import keeps
 * its rate at level 3) are read, decoded, checked against their CID and
 * encoded again at a higher level on a background codec thread; a block whose
 * new form is smaller is appended as a new record and the index moved to it,
 * as gc moves a block. The old record becomes dead space that gc's repack
 * reclaims. A crash at any point leaves each block at its old or its new
 * record, both verified; nothing is moved until its new record is written,
 * and the moves are committed together (one fsync per RECOMPRESS_COMMIT_BYTES).
 */
import { CODEC_RAW, type CodecPool } from '@cachecloud/codec'
import type { CID } from 'multiformats/cid'
import { isSupportedCid, keyOf } from './cid-key.js'
import { MAX_BLOCK_BYTES } from './constants.js'
import type { OpenStore } from './pack-blockstore.js'
import { readRecord } from './record-read.js'
import type { RecompressOptions, RecompressResult } from './index.js'

/** A block is rewritten only when its new form saves at least this share of its stored bytes... */
const MIN_SAVING_SHARE = 0.01
/** ... and at least this many bytes. */
const MIN_SAVING_BYTES = 64
/** Rewritten bytes after which the moves so far are committed. */
const RECOMPRESS_COMMIT_BYTES = 64 * 1024 * 1024
/** Blocks in work on the codec thread at once (one is read while another is encoded). */
const IN_FLIGHT = 2

export interface RecompressInit {
  pool: CodecPool
  /** The store's commit point. */
  commit: () => Promise<void>
}

export async function recompressBlocks (open: OpenStore, cids: Iterable<CID>, options: RecompressOptions, init: RecompressInit): Promise<RecompressResult> {
  const { index, readers, appender } = open
  const result: RecompressResult = { examined: 0, rewritten: 0, savedBytes: 0, missing: 0, corrupt: 0 }
  const seen = new Set<string>()
  const todo = [...cids].filter(cid => {
    if (!isSupportedCid(cid) || seen.has(keyOf(cid))) return false
    seen.add(keyOf(cid))
    return true
  })
  let uncommitted = 0
  let next = 0

  const one = async (cid: CID): Promise<void> => {
    const key = keyOf(cid)
    const entry = index.get(key)
    if (entry === undefined) { result.missing++; return }
    if (entry.codec === CODEC_RAW && options.includeRaw !== true) return
    const stored = await readRecord(readers, key, entry).catch(() => undefined)
    // damaged: left to reads and verify, which drop a corrupt copy; a format-2 record is kept as it is
    if (stored === undefined) { result.corrupt++; return }
    if (entry.legacy) return
    const again = await init.pool.reencode(stored, cid.multihash.digest, MAX_BLOCK_BYTES, options.level)
    result.examined++
    if ('problem' in again) { result.corrupt++; return }
    const saving = entry.length - again.block.bytes.byteLength
    if (saving < Math.max(MIN_SAVING_BYTES, entry.length * MIN_SAVING_SHARE)) return
    let moved = false
    await appender.append(cid, again.block, location => {
      // moved or removed meanwhile (gc, a repair): that record stays the block's
      if (index.get(key) !== entry) return
      index.set(key, location)
      moved = true
    })
    if (!moved) return
    result.rewritten++
    result.savedBytes += saving
    uncommitted += again.block.bytes.byteLength
  }

  const worker = async (): Promise<void> => {
    while (next < todo.length) {
      options.signal?.throwIfAborted()
      const cid = todo[next++]
      await one(cid)
      options.onProgress?.(next, todo.length)
      if (uncommitted >= RECOMPRESS_COMMIT_BYTES) { uncommitted = 0; await init.commit() }
    }
  }
  try {
    await Promise.all(Array.from({ length: IN_FLIGHT }, worker))
  } finally {
    // what was moved before an abort or an error is kept
    await init.commit()
  }
  return result
}
