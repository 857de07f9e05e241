/**
 * A thread of the codec pool. Two jobs:
 * - encode: a raw block in, its encoded form out (the frame's buffer
 *   transferred, not copied; a block that does not shrink comes back as
 *   "raw", and the caller keeps its own bytes);
 * - check: an encoded block as received from a peer, decoded (bounded by its
 *   length) into a reused buffer and hashed against the expected SHA-256
 *   digest; answers the crc32 of the stored bytes (for the record header)
 *   and hands the bytes back (transferred);
 * - verifyRecords: a run of stored records (as read from a pack), each
 *   decoded and hashed; answers each one's problem, keeps the bytes;
 * - reencode: a stored block decoded, hashed against its digest and encoded
 *   again at another level (the block store's recompression at rest).
 * A pool made with `nice` lowers this thread's priority first (Linux keeps
 * one nice value per thread), so background work yields to the rest.
 * Requests come in batches (an array per message); the answers to one batch
 * go back in one message.
 */
import { setPriority } from 'node:os'
import { parentPort, workerData } from 'node:worker_threads'
import { checkBlock, decodeVerifiedBlock, encodeBlock, verifyBlock, type Codec, type StoredRecord } from './index.js'

export type Request =
  | { op: 'encode', id: number, raw: Uint8Array, level?: number }
  | { op: 'check', id: number, codec: Codec, bytes: Uint8Array, length: number, maxLength: number, digest: Uint8Array }
  | { op: 'verifyRecords', id: number, bytes: Uint8Array, records: StoredRecord[], maxLength: number }
  | { op: 'reencode', id: number, codec: Codec, bytes: Uint8Array, length: number, maxLength: number, digest: Uint8Array, level: number }

export type Reply =
  | { op: 'encode', id: number, codec: Codec, bytes?: Uint8Array, length: number }
  | { op: 'check', id: number, bytes: Uint8Array, crc?: number, problem?: string }
  | { op: 'verifyRecords', id: number, problems: Array<string | undefined> }
  | { op: 'reencode', id: number, codec: Codec, bytes?: Uint8Array, length: number, problem?: string }

const { level: defaultLevel, nice } = workerData as { level: number, nice?: number }
if (nice !== undefined) {
  try { setPriority(nice) } catch { /* not allowed here: the thread keeps the process's priority */ }
}
let scratch = new Uint8Array(0)

/** Answers one request; adds what its answer transfers to `transfer`. */
function answer (request: Request, transfer: ArrayBuffer[]): Reply {
  if (request.op === 'encode') {
    const { id, raw, level = defaultLevel } = request
    const block = encodeBlock(raw, { level })
    const bytes = block.bytes === raw ? undefined : block.bytes
    if (bytes !== undefined) transfer.push(bytes.buffer as ArrayBuffer)
    return { op: 'encode', id, codec: block.codec, bytes, length: block.length }
  }
  if (request.op === 'verifyRecords') {
    const { id, bytes, records, maxLength } = request
    const problems = records.map(r => {
      if (r.offset + r.length > bytes.byteLength) return 'record lies past the end of the bytes read'
      return verifyBlock(
        { codec: r.codec, bytes: bytes.subarray(r.offset, r.offset + r.length), length: r.rawLength },
        r.digest,
        maxLength,
        scratchFor(Math.min(r.rawLength, maxLength))
      )
    })
    return { op: 'verifyRecords', id, problems }
  }
  if (request.op === 'reencode') return reencode(request, transfer)
  const { id, codec, bytes, length, maxLength, digest } = request
  const checked = checkBlock({ codec, bytes, length }, digest, maxLength, scratchFor(Math.min(length, maxLength)))
  // a block's bytes arrive in a buffer of their own when moved, else as a copy: either way this thread owns it
  if (!transfer.includes(bytes.buffer as ArrayBuffer)) transfer.push(bytes.buffer as ArrayBuffer)
  return 'crc' in checked ? { op: 'check', id, bytes, crc: checked.crc } : { op: 'check', id, bytes, problem: checked.problem }
}

/** A stored block decoded, checked against its digest, and encoded at `level`: the new form (transferred), or the problem. */
function reencode (request: Extract<Request, { op: 'reencode' }>, transfer: ArrayBuffer[]): Reply {
  const { id, codec, bytes, length, maxLength, digest, level } = request
  const decoded = decodeVerifiedBlock({ codec, bytes, length }, digest, maxLength, scratchFor(Math.min(length, maxLength)))
  if ('problem' in decoded) return { op: 'reencode', id, codec, length, problem: decoded.problem }
  const block = encodeBlock(decoded.raw, { level })
  // a block that does not shrink comes back as the decode buffer itself, which stays here: sent as a copy
  const out = block.bytes.buffer === scratch.buffer || block.bytes.byteLength !== block.bytes.buffer.byteLength ? block.bytes.slice() : block.bytes
  transfer.push(out.buffer as ArrayBuffer)
  return { op: 'reencode', id, codec: block.codec, bytes: out, length: block.length }
}

/** The reused decode buffer, grown to `bytes`. */
function scratchFor (bytes: number): Uint8Array {
  if (scratch.byteLength < bytes) scratch = new Uint8Array(bytes)
  return scratch
}

parentPort?.on('message', (batch: Request[]) => {
  const transfer: ArrayBuffer[] = []
  const replies = batch.map(request => answer(request, transfer))
  parentPort?.postMessage(replies, transfer)
})
