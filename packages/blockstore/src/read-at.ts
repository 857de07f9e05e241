import type { FileHandle } from 'node:fs/promises'

/**
 * Reads `length` bytes at `position`, looping over short reads; fewer only
 * where the file ends. The buffer is its own (never Node's shared pool), so
 * it may be moved to another thread.
 */
export async function readAt (handle: FileHandle, position: number, length: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafeSlow(length)
  let done = 0
  while (done < length) {
    const { bytesRead } = await handle.read(bytes, done, length - done, position + done)
    if (bytesRead === 0) break
    done += bytesRead
  }
  return done === length ? bytes : bytes.subarray(0, done)
}
