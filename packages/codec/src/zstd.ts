/**
 * zstd through zstd-napi's low-level binding: compression into a reused
 * scratch buffer, decompression into a buffer of exactly the expected length,
 * so a frame can never make us allocate more than the caller allows.
 */
import { createRequire } from 'node:module'
import type * as Binding from 'zstd-napi/binding.js'
import { BlockDecodeError } from './errors.js'

const binding = createRequire(import.meta.url)('zstd-napi/binding.js') as typeof Binding

const cctxByLevel = new Map<number, InstanceType<typeof binding.CCtx>>()
let dctx: InstanceType<typeof binding.DCtx> | undefined
let scratch = Buffer.allocUnsafe(0)

function cctx (level: number): InstanceType<typeof binding.CCtx> {
  let ctx = cctxByLevel.get(level)
  if (ctx === undefined) {
    ctx = new binding.CCtx()
    ctx.setParameter(binding.CParameter.compressionLevel, level)
    ctx.setParameter(binding.CParameter.contentSizeFlag, 1)
    ctx.setParameter(binding.CParameter.checksumFlag, 0)
    cctxByLevel.set(level, ctx)
  }
  return ctx
}

/** Compressed bytes of `raw` if they are at most `limit` bytes, else undefined (a fresh buffer: the scratch is reused). */
export function zstdCompress (raw: Uint8Array, level: number, limit: number): Buffer | undefined {
  const bound = binding.compressBound(raw.byteLength)
  if (scratch.byteLength < bound) scratch = Buffer.allocUnsafe(bound)
  const written = cctx(level).compress2(scratch, raw)
  if (written > limit) return undefined
  return Buffer.from(scratch.subarray(0, written))
}

/** Decompresses one frame that must decode to exactly `length` bytes, into `into` (a view of it is returned) or a new buffer. */
export function zstdDecompress (frame: Uint8Array, length: number, into?: Uint8Array): Uint8Array {
  let size: number | null
  try {
    size = binding.getFrameContentSize(frame)
  } catch (err) {
    throw new BlockDecodeError('not a zstd frame', { cause: err })
  }
  if (size === null) throw new BlockDecodeError('zstd frame without its content size')
  if (size !== length) throw new BlockDecodeError(`zstd frame decodes to ${size} bytes, expected ${length}`)
  let consumed: number
  try {
    consumed = binding.findFrameCompressedSize(frame)
  } catch (err) {
    throw new BlockDecodeError('truncated or damaged zstd frame', { cause: err })
  }
  if (consumed !== frame.byteLength) throw new BlockDecodeError(`${frame.byteLength - consumed} bytes after the zstd frame`)
  if (into !== undefined && into.byteLength < length) throw new RangeError(`a ${into.byteLength}-byte buffer cannot hold ${length} decoded bytes`)
  const out = into === undefined ? Buffer.allocUnsafe(length) : into.subarray(0, length)
  let written: number
  try {
    dctx ??= new binding.DCtx()
    written = dctx.decompress(out, frame)
  } catch (err) {
    throw new BlockDecodeError('damaged zstd frame', { cause: err })
  }
  if (written !== length) throw new BlockDecodeError(`zstd frame decoded to ${written} bytes, expected ${length}`)
  return out
}
