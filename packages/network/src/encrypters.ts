import { noise } from '@chainsafe/libp2p-noise'
import { tls } from '@libp2p/tls'
import type { Libp2pOptions } from 'libp2p'
import { ENCRYPTER_NAMES, type EncrypterName } from './constants.js'
import { InvalidEncryptersError } from './errors.js'

type Encrypters = NonNullable<Libp2pOptions['connectionEncrypters']>

const FACTORIES: Record<EncrypterName, () => Encrypters[number]> = {
  tls: () => tls(),
  noise: () => noise()
}

/**
 * The connection encrypters in order of preference. The dialer proposes them
 * in this order with multistream-select and the listener takes the first one
 * it also has, so a node preferring TLS still connects to a Noise-only peer.
 */
export function connectionEncrypters (names: readonly string[]): Encrypters {
  if (names.length === 0) throw new InvalidEncryptersError('no connection encrypter configured: name at least one of ' + ENCRYPTER_NAMES.join(', '))
  const seen = new Set<string>()
  return names.map(name => {
    if (!(ENCRYPTER_NAMES as readonly string[]).includes(name)) {
      throw new InvalidEncryptersError(`unknown connection encrypter ${JSON.stringify(name)} (expected one of ${ENCRYPTER_NAMES.join(', ')})`)
    }
    if (seen.has(name)) throw new InvalidEncryptersError(`connection encrypter ${JSON.stringify(name)} is listed twice`)
    seen.add(name)
    return FACTORIES[name as EncrypterName]()
  })
}
