/** Block indexes held, one bit each: byte i >> 3, bit i & 7 (least significant first). */
export class Bitmap {
  readonly bytes: Uint8Array
  private held = 0

  constructor (readonly size: number, bytes?: Uint8Array) {
    this.bytes = bytes ?? new Uint8Array(Math.ceil(size / 8))
    if (bytes !== undefined) for (let i = 0; i < size; i++) if (this.has(i)) this.held++
  }

  has (i: number): boolean { return (this.bytes[i >> 3] & (1 << (i & 7))) !== 0 }

  set (i: number): void {
    if (this.has(i)) return
    this.bytes[i >> 3] |= 1 << (i & 7)
    this.held++
  }

  clear (i: number): void {
    if (!this.has(i)) return
    this.bytes[i >> 3] &= ~(1 << (i & 7))
    this.held--
  }

  /** Indexes set. */
  get count (): number { return this.held }
}
