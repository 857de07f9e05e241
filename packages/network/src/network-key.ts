import { NETWORK_KEY_HEADER } from './constants.js'
import { InvalidNetworkKeyError } from './errors.js'

/** Checks a network key in the swarm.key format (`/key/swarm/psk/1.0.0/`, `/base16/`, 64 hex digits). */
export function parseNetworkKey (key: Uint8Array | string): Uint8Array {
  const text = typeof key === 'string' ? key : new TextDecoder().decode(key)
  const lines = text.trim().split(/\r?\n/)
  if (lines.length !== 3 || lines[0] !== NETWORK_KEY_HEADER || lines[1] !== '/base16/' || !/^[0-9a-fA-F]{64}$/.test(lines[2])) {
    throw new InvalidNetworkKeyError(`not a network key: expected three lines "${NETWORK_KEY_HEADER}", "/base16/" and 64 hex digits`)
  }
  return new TextEncoder().encode(lines.join('\n') + '\n')
}

/** A new random network key in the swarm.key format, to share with the organization's nodes. */
export function generateNetworkKey (): string {
  const hex = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  return `${NETWORK_KEY_HEADER}\n/base16/\n${hex}\n`
}
