import { noise } from '@chainsafe/libp2p-noise'
import { yamux } from '@chainsafe/libp2p-yamux'
import { identify, type Identify } from '@libp2p/identify'
import type { Libp2p, PrivateKey } from '@libp2p/interface'
import { tcp } from '@libp2p/tcp'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { createLibp2p } from 'libp2p'
import { DEFAULT_LISTEN } from './constants.js'
import { InvalidMultiaddrError } from './errors.js'

export interface NetworkInit {
  privateKey: PrivateKey
  /** Multiaddrs to listen on. Default: DEFAULT_LISTEN. */
  listen?: string[]
  /** Addresses to announce instead of the listen addresses (e.g. behind NAT). */
  announce?: string[]
}

export type CachePointLibp2p = Libp2p<{ identify: Identify }>

/** Creates and starts the libp2p host. Needs `@cachecloud/core/polyfill` loaded first on Node 20. */
export async function createNetwork (init: NetworkInit): Promise<CachePointLibp2p> {
  return createLibp2p({
    privateKey: init.privateKey,
    addresses: { listen: init.listen ?? DEFAULT_LISTEN, announce: init.announce ?? [] },
    transports: [tcp()],
    connectionEncrypters: [noise()],
    streamMuxers: [yamux()],
    services: { identify: identify() }
  })
}

/** Parses a multiaddr typed by a user or read from config, with a one-line error. */
export function parseMultiaddr (text: string): Multiaddr {
  try {
    return multiaddr(text)
  } catch {
    throw new InvalidMultiaddrError(`not a valid multiaddr: ${JSON.stringify(text)} (expected e.g. /ip4/10.0.0.5/tcp/4001/p2p/12D3Koo...)`)
  }
}
