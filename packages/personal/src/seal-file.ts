import { closeSync, constants, fstatSync, lstatSync, openSync, readlinkSync, readSync } from 'node:fs'
import { join } from 'node:path'
import { crc32 } from 'node:zlib'
import type { Chunker } from '@cachecloud/chunker'
import { sha256Digest } from '@cachecloud/core'
import { CHUNK_FORMAT, pageBoundary, sealChunk, sealEntry, type UserKeys } from '@cachecloud/personal-format'

// The CPU work of a scan, for one small file or a list of chunks: the same on
// a sealing thread and on the calling thread (docs/formats/personal.md#sealed-chunk).

export type SealKeys = Pick<UserKeys, 'chunkKey' | 'nonceKey' | 'gearKey'>

/**
 * A file read whole: `size`, `mtimeNs`, `ino` as lstat saw them (to tell whether it changed while read);
 * `name`, `mode`, `mtimeMs`: its directory entry, sealed here too (sealEntry).
 */
export interface SealFileJob { t: 'file', path: string, size: bigint, mtimeNs: bigint, ino: bigint, name: string, mode: number, mtimeMs: number }
/** Chunks of a large file, sealed in order. */
export interface SealChunksJob { t: 'chunks', chunks: Uint8Array[] }
/** Small files read and sealed in one message (a directory's, a batch at a time); `paged`: their directory is paged (sealDir), so each entry's page boundary is wanted too. */
export interface SealFilesJob { t: 'files', files: SealFileJob[], paged?: boolean }
/** lstat of the names of one directory, in one message. */
export interface StatJob { t: 'stat', dir: string, names: string[] }
export type SealJob = SealFilesJob | SealChunksJob | StatJob

/** `entry`: the file's directory entry, sealed; `boundary`: pageBoundary of its name, for a paged directory. */
export type FileResult = { t: 'file', sha256: Uint8Array, size: number, sealed: SealedChunk[], unchanged: boolean, entry: Uint8Array, boundary?: boolean } | { t: 'gone' }

/**
 * A sealed chunk and what the block store would otherwise compute of it on
 * the calling thread: the SHA-256 of the sealed bytes (its CID's digest) and
 * their crc32 (its record's check; sealed chunks are stored raw).
 */
export interface SealedChunk { bytes: Uint8Array, sha256: Uint8Array, crc32: number }

/** What a scan needs of an lstat (bigint times and ids, as the scan cache keeps them); `target` for a symlink. */
export interface EntryStat { kind: 'file' | 'dir' | 'symlink' | 'other', mode: bigint, size: bigint, mtimeNs: bigint, ctimeNs: bigint, ino: bigint, target?: string }

export type SealResult =
  | { t: 'files', results: FileResult[] }
  | { t: 'chunks', sealed: SealedChunk[] }
  | { t: 'stat', stats: Array<EntryStat | null> }

/** Runs one job (on a sealing thread or the calling thread). */
export function runJob (keys: SealKeys, chunker: Chunker, job: SealJob): SealResult {
  if (job.t === 'files') return { t: 'files', results: job.files.map(f => sealFile(keys, chunker, f, job.paged === true)) }
  if (job.t === 'chunks') return { t: 'chunks', sealed: job.chunks.map(c => sealedChunk(keys, c)) }
  return { t: 'stat', stats: job.names.map(n => statEntry(join(job.dir, n))) }
}

/** lstat of one path (null when it vanished); a symlink's target read too (null when it vanished meanwhile). */
export function statEntry (path: string): EntryStat | null {
  try {
    const st = lstatSync(path, { bigint: true })
    const kind = st.isFile() ? 'file' : st.isDirectory() ? 'dir' : st.isSymbolicLink() ? 'symlink' : 'other'
    const out: EntryStat = { kind, mode: st.mode, size: st.size, mtimeNs: st.mtimeNs, ctimeNs: st.ctimeNs, ino: st.ino }
    if (kind === 'symlink') out.target = readlinkSync(path)
    return out
  } catch {
    return null
  }
}

/** Seals one chunk and digests the sealed bytes. */
function sealedChunk (keys: SealKeys, raw: Uint8Array): SealedChunk {
  const bytes = sealChunk(keys, raw)
  return { bytes, sha256: sha256Digest(bytes), crc32: crc32(bytes) }
}

/** Every sealed chunk of a result (what a sealing thread transfers). */
export function sealedOf (result: SealResult): SealedChunk[][] {
  if (result.t === 'chunks') return [result.sealed]
  if (result.t === 'files') return result.results.map(r => r.t === 'file' ? r.sealed : [])
  return []
}

/** Files up to this size are read into one reused buffer per thread (a scan reads files whole up to 256 KiB). */
const MAX_REUSED_READ = 256 * 1024
let readBuffer = Buffer.allocUnsafe(0)

/** Reads, hashes, chunks and seals one file; 'gone' when it cannot be opened (vanished or unreadable since it was listed). */
export function sealFile (keys: SealKeys, chunker: Chunker, job: SealFileJob, paged = false): FileResult {
  let fd: number
  try { fd = openSync(job.path, constants.O_RDONLY | constants.O_NOFOLLOW) } catch { return { t: 'gone' } }
  let data: Buffer
  let unchanged: boolean
  try {
    // small files are read into this thread's one buffer: nothing keeps a view of it past this call (the chunks are sealed into new buffers)
    if (readBuffer.byteLength < job.size && job.size <= MAX_REUSED_READ) readBuffer = Buffer.allocUnsafe(MAX_REUSED_READ)
    const buf = job.size <= readBuffer.byteLength ? readBuffer.subarray(0, Number(job.size)) : Buffer.allocUnsafe(Number(job.size))
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
  const sha256 = sha256Digest(data)
  const sealed = chunker.split(data).map(c => sealedChunk(keys, c))
  // encodeEntry reads only the number of chunks, not their CIDs
  const entry = sealEntry(keys, { kind: 'file', name: job.name, mode: job.mode, mtimeMs: job.mtimeMs, size: data.byteLength, sha256, chunks: new Array(sealed.length), chunkFormat: CHUNK_FORMAT.flagged })
  return { t: 'file', sha256, size: data.byteLength, sealed, unchanged, entry, ...(paged ? { boundary: pageBoundary(keys, job.name) } : {}) }
}
