/**
 * A compression thread of the encoder pool: receives raw blocks, answers
 * their encoded form (the frame's buffer transferred, not copied).
 */
import { parentPort, workerData } from 'node:worker_threads'
import { encodeBlock } from './index.js'

interface Request { id: number, raw: Uint8Array, level?: number }

const defaultLevel = (workerData as { level: number }).level
parentPort?.on('message', ({ id, raw, level = defaultLevel }: Request) => {
  const block = encodeBlock(raw, { level })
  const bytes = block.bytes === raw ? undefined : block.bytes
  const transfer = bytes === undefined ? [] : [bytes.buffer as ArrayBuffer]
  parentPort?.postMessage({ id, codec: block.codec, bytes, length: block.length }, transfer)
})
