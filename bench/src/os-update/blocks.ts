import { open } from 'node:fs/promises'
import { compress } from 'zstd-napi'

/** The unit of change: 256 KiB blocks. */
export const CHANGE_BLOCK = 256 * 1024
const ZSTD_LEVEL = 3

/** v2's blocks that differ from v1's at the same offset, all-zero blocks excluded, and what zstd -3 makes of them. */
export interface ChangedBlocks {
  blocks: number
  bytes: number
  /** Each block compressed on its own (kept raw when zstd does not shrink it, as a store would). */
  perBlockBytes: number
  /** All changed blocks, in image order, as one zstd stream. */
  oneStreamBytes: number
}

function isZero (bytes: Buffer): boolean {
  for (let i = 0; i < bytes.length; i += 8) if (bytes.readBigUInt64LE(i) !== 0n) return false
  return true
}

export async function changedBlocks (v1: string, v2: string): Promise<ChangedBlocks> {
  const [a, b] = [await open(v1, 'r'), await open(v2, 'r')]
  try {
    const size = (await b.stat()).size
    const x = Buffer.alloc(CHANGE_BLOCK)
    const y = Buffer.alloc(CHANGE_BLOCK)
    const changed: Buffer[] = []
    for (let position = 0; position < size; position += CHANGE_BLOCK) {
      const length = Math.min(CHANGE_BLOCK, size - position)
      x.fill(0)
      y.fill(0)
      await a.read(x, 0, length, position)
      await b.read(y, 0, length, position)
      if (!x.equals(y) && !isZero(y)) changed.push(Buffer.from(y.subarray(0, length)))
    }
    const bytes = changed.reduce((n, block) => n + block.byteLength, 0)
    const perBlockBytes = changed.reduce((n, block) => n + Math.min(block.byteLength, compress(block, { compressionLevel: ZSTD_LEVEL }).byteLength), 0)
    const oneStreamBytes = compress(Buffer.concat(changed), { compressionLevel: ZSTD_LEVEL }).byteLength
    return { blocks: changed.length, bytes, perBlockBytes, oneStreamBytes }
  } finally {
    await Promise.all([a.close(), b.close()])
  }
}
