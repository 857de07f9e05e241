import { connect, type Server } from 'node:net'
import { chmod, lstat, rm } from 'node:fs/promises'
import { Buffer } from 'node:buffer'
import { MAX_SOCKET_PATH_BYTES, SOCKET_MODE } from './constants.js'
import { AddressInUseError, InvalidAddressError } from './errors.js'

/** True when something accepts connections on the Unix socket at `path`. */
async function answers (path: string): Promise<boolean> {
  return await new Promise<boolean>((resolve) => {
    const s = connect(path)
    s.once('connect', () => { s.destroy(); resolve(true) })
    s.once('error', () => { resolve(false) })
  })
}

/**
 * Listens on a Unix socket at `path`, mode 0600 (only this user may connect:
 * NBD itself has no authentication). A socket file left by a process that
 * died is replaced; a live one, or any other kind of file, is not touched.
 * The caller should keep the socket in a directory only this user can enter,
 * so that nobody connects in the moment between listen and chmod.
 */
export async function listenUnix (server: Server, path: string): Promise<void> {
  if (Buffer.byteLength(path) > MAX_SOCKET_PATH_BYTES) {
    throw new InvalidAddressError(`NBD socket path ${path} is longer than ${MAX_SOCKET_PATH_BYTES} bytes (a Unix socket limit): use a shorter data directory, or TCP with --nbd 127.0.0.1:PORT`)
  }
  const existing = await lstat(path).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
  if (existing !== undefined) {
    if (!existing.isSocket()) throw new InvalidAddressError(`${path} exists and is not a socket: not replaced`)
    if (await answers(path)) throw new AddressInUseError(`${path} is already served by another process`)
    await rm(path, { force: true })
  }
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err: Error & { code?: string }) => {
      if (err.code === 'EADDRINUSE') reject(new AddressInUseError(`${path} is already in use`, { cause: err }))
      else reject(err)
    })
    server.listen(path, () => { resolve() })
  })
  await chmod(path, SOCKET_MODE)
}
