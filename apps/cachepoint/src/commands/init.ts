import type { Command } from 'commander'
import { output } from '../context.js'
import { collect, parseCount, parseSize } from '../options.js'
import { dataDirOf, type GlobalOptions } from '../paths.js'

interface InitOptions {
  listen?: string[]
  peer?: string[]
  trust?: string[]
  controlPort?: string
  blockSize?: string
}

export function registerInit (program: Command, globals: () => GlobalOptions): void {
  program.command('init')
    .description('create a CachePoint data directory: config, peer identity, publisher key, control token')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable; default /ip4/0.0.0.0/tcp/4001)', collect)
    .option('--peer <multiaddr>', 'peer to pull from by default, ending in /p2p/<peer id> (repeatable)', collect)
    .option('--trust <key>', 'trusted publisher key ed25519:... (repeatable)', collect)
    .option('--control-port <port>', 'control API port on 127.0.0.1 (default: chosen by the OS)')
    .option('--block-size <bytes>', 'block size of images imported here')
    .action(async (opts: InitOptions) => {
      const g = globals()
      const dataDir = dataDirOf(g)
      const { initDataDir } = await import('@cachecloud/daemon')
      const { configPath, config, peerId, publisherKey } = await initDataDir(dataDir, {
        listen: opts.listen,
        peers: opts.peer,
        trustedPublishers: opts.trust,
        controlPort: opts.controlPort === undefined ? undefined : parseCount(opts.controlPort, '--control-port'),
        blockSize: opts.blockSize === undefined ? undefined : parseSize(opts.blockSize, '--block-size')
      })
      const result = { dataDir: config.dataDir, configPath, peerId, publisherKey }
      output(g, result, () => [
        `initialized CachePoint in ${result.dataDir}`,
        `  config:        ${result.configPath}`,
        `  peer id:       ${result.peerId}`,
        `  publisher key: ${result.publisherKey}`,
        '  (other CachePoints accept this node\'s images once its publisher key is in their trustedPublishers)'
      ].join('\n'))
    })
}
