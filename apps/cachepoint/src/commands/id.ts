import type { Command } from 'commander'
import { output } from '../context.js'
import { configPathOf, type GlobalOptions } from '../paths.js'

export function registerId (program: Command, globals: () => GlobalOptions): void {
  program.command('id')
    .description('print this node\'s peer id, publisher key and listen addresses, from the data directory (no daemon needed)')
    .action(async () => {
      const g = globals()
      const { loadConfig, readIdentity } = await import('@cachecloud/daemon/settings')
      const config = await loadConfig(await configPathOf(g))
      const { peerId, publisherKey } = await readIdentity(config.dataDir)
      const result = { peerId, publisherKey, addresses: config.listen.map(a => `${a}/p2p/${peerId}`), dataDir: config.dataDir }
      output(g, result, () => [
        `peer id:       ${result.peerId}`,
        `publisher key: ${result.publisherKey}`,
        ...result.addresses.map(a => `address:       ${a}`),
        '  (others pull from an address with --peer or --from; 0.0.0.0 stands for this host\'s own address)'
      ].join('\n'))
    })
}
