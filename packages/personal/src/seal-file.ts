import { createHash } from 'node:crypto'
import { closeSync, constants, fstatSync, openSync, readSync } from 'node:fs'
import type { Chunker } from '@cachecloud/chunker'
import { sealChunk } from './chunk-seal.js'
import type { UserKeys } from './crypto.js'

// The CPU work of a scan, for one small file or a list of chunks: the same on
// a sealing thread and on the calling thread (docs/formats/personal.md#sealed-chunk).

export type SealKeys = Pick<UserKeys, 'chunkKey' | 'nonceKey' | 'gearKey'>

/** A file read whole: `size`, `mtimeNs`, `ino` as lstat saw them (to tell whether it changed while read). */
export interface SealFileJob { t: 'file', path: string, size: bigint, mtimeNs: bigint, ino: bigint }
/** Chunks of a large file, sealed in order. */
export interface SealChunksJob { t: 'chunks', chunks: Uint8Array[] }
export type SealJob = SealFileJob | SealChunksJob

export type SealResult =
  | { t: 'file', sha256: Uint8Array, size: number, sealed: Uint8Array[], unchanged: boolean }
  | { t: 'chunks', sealed: Uint8Array[] }
  | { t: 'gone' }

/** Reads, hashes, chunks and seals one file; 'gone' when it cannot be opened (vanished or unreadable since it was listed). */
export function sealFile (keys: SealKeys, chunker: Chunker, job: SealFileJob): SealResult {
  let fd: number
  try { fd = openSync(job.path, constants.O_RDONLY | constants.O_NOFOLLOW) } catch { return { t: 'gone' } }
  let data: Buffer
  let unchanged: boolean
  try {
    const buf = Buffer.allocUnsafe(Number(job.size))
    let offset = 0
    while (offset < buf.byteLength) {
      const n = readSync(fd, buf, offset, buf.byteLength - offset, offset)
      if (n === 0) break
      offset += n
    }
    data = buf.subarray(0, offset)
    const st = fstatSync(fd, { bigint: true })
    unchanged = st.mtimeNs === job.mtimeNs && st.size === job.size && st.ino === job.ino
  } finally {
    closeSync(fd)
  }
  const sha256 = createHash('sha256').update(data).digest()
  const sealed = chunker.split(data).map(c => sealChunk(keys, c))
  return { t: 'file', sha256, size: data.byteLength, sealed, unchanged }
}

export function sealPieces (keys: SealKeys, job: SealChunksJob): SealResult {
  return { t: 'chunks', sealed: job.chunks.map(c => sealChunk(keys, c)) }
}
