import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { InvalidMultiaddrError } from './errors.js'

/** The peer id in a multiaddr typed by a user or read from config (its /p2p/ part), if it has one; a one-line error if it is no multiaddr. */
export function peerIdOfMultiaddr (text: string): string | undefined {
  return parseMultiaddr(text).getComponents().find(c => c.name === 'p2p')?.value
}

/** Parses a multiaddr typed by a user or read from config, with a one-line error. */
export function parseMultiaddr (text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch {
    throw new InvalidMultiaddrError(`not a valid multiaddr: ${JSON.stringify(text)} (expected e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo...)`)
  }
}
