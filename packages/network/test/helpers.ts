import { generateKeyPair } from '@libp2p/crypto/keys'
import { pino, type Logger } from 'pino'
import { createNetwork, type CachePointLibp2p, type NetworkInit } from '../src/index.js'

export const LOCAL = ['/ip4/127.0.0.1/tcp/0']

/** A host on 127.0.0.1 with a fresh identity. */
export async function host (init: Partial<NetworkInit> = {}): Promise<CachePointLibp2p> {
  return await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: LOCAL, ...init })
}

/** A pino logger that keeps its JSON lines, for asserting what was logged. */
export function memoryLogger (): { logger: Logger, lines: string[] } {
  const lines: string[] = []
  return { logger: pino({ level: 'debug' }, { write: (line: string) => { lines.push(line) } }), lines }
}
