/**
 * Buffers for received blocks that span several chunks of the stream, kept
 * for reuse once the store is done with them (it hands them back through
 * putEncoded's `release`, after moving them to a codec thread and back). A
 * fresh 256 KiB buffer per block cost the receiving thread page faults and
 * GC: about 2.5x the CPU of a copy into a reused one.
 */
export class BlockBuffers {
  private readonly spare = new Map<number, ArrayBuffer[]>()
  private held = 0

  /** `max`: most spare buffers kept (each the size of a block). */
  constructor (private readonly max: number) {}

  /** `length` bytes in a buffer of `capacity` (the block's length from the manifest; a longer `length` gets a buffer of its own, not kept). */
  take (length: number, capacity: number): Uint8Array {
    if (length > capacity) return new Uint8Array(length)
    const buffer = this.spare.get(capacity)?.pop()
    if (buffer !== undefined) this.held--
    return new Uint8Array(buffer ?? new ArrayBuffer(capacity), 0, length)
  }

  /** Keeps the buffer under `bytes` for a later block of its size, if it is one of ours and there is room. */
  give (bytes: Uint8Array): void {
    const buffer = bytes.buffer
    if (!(buffer instanceof ArrayBuffer) || buffer.byteLength === 0 || this.held >= this.max) return
    let list = this.spare.get(buffer.byteLength)
    if (list === undefined) this.spare.set(buffer.byteLength, list = [])
    list.push(buffer)
    this.held++
  }
}
