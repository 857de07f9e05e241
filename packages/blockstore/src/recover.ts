/**
 * Start-up recovery (docs/formats/blockstore.md, "Recovery"). The index log
 * holds what was committed; pack bytes past a pack's committed length were
 * written after the last commit and may be whole (the process was killed),
 * torn or garbage (power loss). Each such tail is scanned record by record:
 * every record that parses and whose bytes hash to its CID is indexed again,
 * and the pack is cut at the first one that does not. Entries pointing at a
 * missing pack or past its end are dropped, and packs with no entry deleted.
 */
import fs from 'node:fs/promises'
import type { FileHandle } from 'node:fs/promises'
import { join } from 'node:path'
import type { BlockIndex } from './block-index.js'
import { decodeSupportedCid } from './cid-key.js'
import { fsyncPath } from './fs-util.js'
import { crcMatches, isPackHeader, MAX_RECORD_HEADER_BYTES, PACK_HEADER, packFileName, packIdOf, parseRecordHeader } from './pack-format.js'
import { readAt } from './read-at.js'
import { decodeVerified } from './record-read.js'

export interface RecoveryResult {
  /** Bytes cut from the end of the index log (a torn or damaged last commit). */
  droppedLogBytes: number
  /** Index entries dropped because their pack was missing or too short. */
  droppedEntries: number
  /** Blocks found whole and verified in pack tails written after the last commit. */
  salvaged: number
  /** Bytes cut from pack tails (torn records, garbage). */
  truncatedBytes: number
  /** Packs deleted because no block in them was present. */
  deletedPacks: number
}

/** Brings the pack files and `index` (replayed from the log) into agreement; returns the packs whose length changed. */
export async function recoverPacks (dir: string, index: BlockIndex, result: RecoveryResult): Promise<number[]> {
  const files = new Map<number, number>()
  for (const name of await fs.readdir(dir)) {
    const id = packIdOf(name)
    if (id !== undefined) files.set(id, (await fs.stat(join(dir, name))).size)
  }
  for (const id of index.packs.keys()) if (!files.has(id)) index.packs.delete(id)

  const ends = new Map<number, number>()
  for (const [key, entry] of index.entries) {
    const size = files.get(entry.pack)
    const end = entry.offset + entry.length
    if (size === undefined || end > size) {
      index.remove(key)
      result.droppedEntries++
    } else {
      ends.set(entry.pack, Math.max(ends.get(entry.pack) ?? 0, end))
    }
  }

  const changed: number[] = []
  const ids = [...files.keys()].sort((a, b) => a - b)
  for (const id of ids) {
    index.nextPackId = Math.max(index.nextPackId, id + 1)
    const size = files.get(id) as number
    const info = index.pack(id)
    const start = Math.max(info.committed, ends.get(id) ?? 0, PACK_HEADER.byteLength)
    if (size <= start) {
      info.size = size
      if (info.committed > size) {
        info.committed = size
        changed.push(id)
      }
      continue
    }
    const handle = await fs.open(join(dir, packFileName(id)), 'r+')
    try {
      const headerOk = isPackHeader(await readAt(handle, 0, PACK_HEADER.byteLength))
      // A pack with a damaged header is not scanned; it is cut to what the index still uses.
      const end = headerOk ? await salvageTail(handle, id, start, size, index, result) : ends.has(id) ? start : 0
      if (end < size) {
        await handle.truncate(end)
        result.truncatedBytes += size - end
      }
      info.size = end
      changed.push(id)
    } finally {
      await handle.close()
    }
  }

  let deleted = false
  for (const id of ids) {
    if ((index.packs.get(id)?.blocks ?? 0) > 0) continue
    await fs.rm(join(dir, packFileName(id)), { force: true })
    index.packs.delete(id)
    result.deletedPacks++
    deleted = true
  }
  if (deleted) await fsyncPath(dir)
  return changed.filter(id => index.packs.has(id))
}

/** Indexes the verified records from `start`; returns the offset just after the last good one. */
async function salvageTail (handle: FileHandle, id: number, start: number, size: number, index: BlockIndex, result: RecoveryResult): Promise<number> {
  let at = start
  while (at < size) {
    const header = parseRecordHeader(await readAt(handle, at, Math.min(MAX_RECORD_HEADER_BYTES, size - at)))
    if (header === undefined) break
    const end = at + header.headerBytes + header.dataLength
    const cid = decodeSupportedCid(header.cid)
    if (cid === undefined || end > size) break
    const data = await readAt(handle, at + header.headerBytes, header.dataLength)
    // a record written after the last commit is taken back only if its bytes decode to its CID
    if (!crcMatches(header, data) || decodeVerified(cid, { codec: header.codec, bytes: data, length: header.rawLength }) === undefined) break
    const key = header.cid.toString('latin1')
    if (!index.has(key)) {
      index.set(
        key,
        { pack: id, offset: at + header.headerBytes, length: header.dataLength, codec: header.codec, rawLength: header.rawLength, legacy: header.legacy }
      )
      result.salvaged++
    }
    at = end
  }
  return at
}
