/**
 * A thread of the codec pool. Two jobs:
 * - encode: a raw block in, its encoded form out (the frame's buffer
 *   transferred, not copied; a block that does not shrink comes back as
 *   "raw", and the caller keeps its own bytes);
 * - check: an encoded block as received from a peer, decoded (bounded by its
 *   length) into a reused buffer and hashed against the expected SHA-256
 *   digest; answers the crc32 of the stored bytes (for the record header)
 *   and hands the bytes back (transferred).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { checkBlock, encodeBlock, type Codec } from './index.js'

export type Request =
  | { op: 'encode', id: number, raw: Uint8Array, level?: number }
  | { op: 'check', id: number, codec: Codec, bytes: Uint8Array, length: number, maxLength: number, digest: Uint8Array }

export type Reply =
  | { op: 'encode', id: number, codec: Codec, bytes?: Uint8Array, length: number }
  | { op: 'check', id: number, bytes: Uint8Array, crc?: number, problem?: string }

const defaultLevel = (workerData as { level: number }).level
let scratch = new Uint8Array(0)

function answer (request: Request): void {
  if (request.op === 'encode') {
    const { id, raw, level = defaultLevel } = request
    const block = encodeBlock(raw, { level })
    const bytes = block.bytes === raw ? undefined : block.bytes
    const transfer = bytes === undefined ? [] : [bytes.buffer as ArrayBuffer]
    parentPort?.postMessage({ op: 'encode', id, codec: block.codec, bytes, length: block.length } satisfies Reply, transfer)
    return
  }
  const { id, codec, bytes, length, maxLength, digest } = request
  if (scratch.byteLength < Math.min(length, maxLength)) scratch = new Uint8Array(Math.min(length, maxLength))
  const checked = checkBlock({ codec, bytes, length }, digest, maxLength, scratch)
  const reply: Reply = 'crc' in checked ? { op: 'check', id, bytes, crc: checked.crc } : { op: 'check', id, bytes, problem: checked.problem }
  parentPort?.postMessage(reply, [bytes.buffer as ArrayBuffer])
}

parentPort?.on('message', answer)
