/**
 * @packageDocumentation
 *
 * The framing every CacheCloud protocol shares (docs/formats/protocols.md#framing):
 * an unsigned LEB128 varint length, then that many bytes. A reader checks each
 * length against its bound as soon as the prefix arrives.
 *
 * @example
 * ```ts
 * import { encodeFrame, FrameReader } from '@cachecloud/frame'
 * stream.send(encodeFrame(body))
 * for await (const frame of new FrameReader(stream, 1024 * 1024)) handle(frame.subarray())
 * ```
 */
export * from './constants.js'
export * from './errors.js'
export * from './frame.js'
