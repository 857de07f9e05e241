import { DEFAULT_PIPELINE_BYTES, MAX_BLOCK_SIZE, MAX_PIPELINE_BLOCKS, MIN_BLOCK_SIZE, MIN_PIPELINE_BLOCKS } from './constants.js'
import { InvalidBlockSizeError } from './errors.js'

/** Throws InvalidBlockSizeError unless `size` is a power of two in [MIN_BLOCK_SIZE, MAX_BLOCK_SIZE]. */
export function assertValidBlockSize (size: number): void {
  if (!Number.isSafeInteger(size) || size < MIN_BLOCK_SIZE || size > MAX_BLOCK_SIZE || (size & (size - 1)) !== 0) {
    throw new InvalidBlockSizeError(`invalid block size ${String(size)}: must be a power of two from ${MIN_BLOCK_SIZE} (4 KiB) to ${MAX_BLOCK_SIZE} (16 MiB)`)
  }
}

/** Blocks kept in flight: enough to overlap I/O and hashing, bounded in bytes so memory stays constant. */
export function pipelineDepth (blockSize: number, requested?: number): number {
  if (requested !== undefined) return Math.max(1, Math.floor(requested))
  return Math.min(MAX_PIPELINE_BLOCKS, Math.max(MIN_PIPELINE_BLOCKS, Math.floor(DEFAULT_PIPELINE_BYTES / blockSize)))
}

const zeroes = new Map<number, Buffer>()

/** True when every byte is zero: memcmp against a shared zero buffer, stopping at the first difference. */
export function isZero (bytes: Buffer): boolean {
  let zero = zeroes.get(bytes.byteLength)
  if (zero === undefined) {
    if (zeroes.size > 8) zeroes.clear()
    zero = Buffer.alloc(bytes.byteLength)
    zeroes.set(bytes.byteLength, zero)
  }
  return bytes.equals(zero)
}
