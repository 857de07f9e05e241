import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { formatX25519Key, generateX25519KeyPair } from '@cachecloud/personal'
import { ConfigError, parseConfig } from '../src/index.js'

const KEY = formatX25519Key(generateX25519KeyPair().publicKey)
const parse = (extra: Record<string, unknown>): ReturnType<typeof parseConfig> => parseConfig(JSON.stringify({ dataDir: '/d', ...extra }), '/d/config.json')

function refuses (extra: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => parse(extra), (err: Error) => {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.message.split('\n').length, 1)
    assert.match(err.message, pattern)
    return true
  })
}

describe('personal config', () => {
  it('reads personalization and personalStore', () => {
    const store = { address: '/ip4/10.0.0.9/tcp/4100/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf', discoveryKey: KEY }
    const c = parse({ personalization: [{ user: 'alice', path: '/home/alice/Documents' }], personalStore: store })
    assert.deepEqual(c.personalization, [{ user: 'alice', path: '/home/alice/Documents' }])
    assert.deepEqual(c.personalStore, store)
    const several = { ...store, fallbackAddresses: ['/ip4/10.0.0.10/tcp/4100/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'] }
    assert.deepEqual(parse({ personalStore: several }).personalStore, several)
    assert.equal(parse({}).personalization, undefined)
    const keyed = parse({ personalization: [{ user: 'alice', path: '/home/alice/Documents', keyFile: '/etc/cachecloud/alice.key' }], personalStore: store })
    assert.deepEqual(keyed.personalization, [{ user: 'alice', path: '/home/alice/Documents', keyFile: '/etc/cachecloud/alice.key' }])
  })

  it('refuses bad entries with one line naming the field', () => {
    const personalStore = { discoveryKey: KEY }
    refuses({ personalization: {}, personalStore }, /"personalization" must be a list/)
    refuses({ personalization: [{ path: '/x' }], personalStore }, /needs a "user"/)
    refuses({ personalization: [{ user: 'alice', path: 'rel' }], personalStore }, /absolute path/)
    refuses({ personalization: [{ user: 'a', path: '/x' }, { user: 'a', path: '/y' }], personalStore }, /listed twice/)
    refuses({ personalization: [{ user: 'a', path: '/x' }] }, /needs "personalStore"/)
    refuses({ personalization: [{ user: 'a', path: '/x', keyFile: 'alice.key' }], personalStore }, /"keyFile" of a must be an absolute path/)
    refuses({ personalStore: { discoveryKey: 'nope' } }, /personalStore.discoveryKey/)
    refuses({ personalStore: { discoveryKey: KEY, address: '/ip4/10.0.0.9/tcp/4100' } }, /\/p2p\//)
    const address = '/ip4/10.0.0.9/tcp/4100/p2p/12D3KooWGzxzKZYveHXtpG6AsrUJBcWxHBFS2HsEoGTxrMLvKXtf'
    refuses({ personalStore: { discoveryKey: KEY, address, fallbackAddresses: address } }, /"personalStore.fallbackAddresses" must be a list/)
    refuses({ personalStore: { discoveryKey: KEY, address, fallbackAddresses: [address, '/ip4/10.0.0.10/tcp/4100'] } }, /"personalStore.fallbackAddresses\[1\]" must end in \/p2p\//)
    refuses({ personalStore: { discoveryKey: KEY, fallbackAddresses: [address] } }, /needs "personalStore.address"/)
  })
})
