import type { Command } from 'commander'
import { output } from '../context.js'
import { collect, parseCount, parseSize } from '../options.js'
import { dataDirOf, type GlobalOptions } from '../paths.js'
import { UsageError } from '../errors.js'
import { swarmConfigFromFlags, type SwarmFlags } from '../swarm-flags.js'
import { checkFlag, checkOpenListen } from '../config-flags.js'

interface InitOptions extends SwarmFlags {
  listen?: string[]
  peer?: string[]
  trust?: string[]
  controlPort?: string
  blockSize?: string
  insecureOpen?: boolean
}

export function registerInit (program: Command, globals: () => GlobalOptions): void {
  program.command('init')
    .description('create a CachePoint data directory: config, peer identity, publisher key, control token')
    .option('--listen <multiaddr>', 'libp2p listen address (repeatable; default /ip4/127.0.0.1/tcp/4001, this host only); beyond loopback it needs --network-key or --allow-peer', collect)
    .option('--peer <multiaddr>', 'peer to pull from by default, ending in /p2p/<peer id> (repeatable)', collect)
    .option('--trust <key>', 'trusted publisher key ed25519:... (repeatable)', collect)
    .option('--control-port <port>', 'control API port on 127.0.0.1 (default: chosen by the OS)')
    .option('--block-size <bytes>', 'block size of images imported here')
    .option('--site <label>', 'site label, e.g. branch-paris: peers with the same label are LAN')
    .option('--wan-max-rate <rate>', 'WAN rate budget, e.g. 20mbit or 2MB (bytes/s); LAN is not limited')
    .option('--wan-schedule <from-to=rate>', 'WAN rate for hours of the day, e.g. 8-18=2mbit (repeatable; needs --wan-max-rate)', collect)
    .option('--network-key <file>', 'organization network key file (swarm.key): only nodes with it can connect')
    .option('--allow-peer <peer id>', 'accept connections only from these peer ids (repeatable)', collect)
    .option('--bootstrap <multiaddr>', 'peer dialled at start, ending in /p2p/<peer id> (repeatable)', collect)
    .option('--mdns', 'find same-network CachePoints with mDNS')
    .option('--insecure-open', 'listen beyond loopback with neither --network-key nor --allow-peer: any host that reaches the port can list and download every image (warned at every start)')
    .option('--subscribe <name[:policy]>', 'pull every announced version of an image (policy auto, or manual: only record) (repeatable)', collect)
    .action(async (opts: InitOptions) => {
      const g = globals()
      const dataDir = dataDirOf(g)
      const swarm = await swarmConfigFromFlags(opts)
      const controlPort = opts.controlPort === undefined ? undefined : parseCount(opts.controlPort, '--control-port')
      const blockSize = opts.blockSize === undefined ? undefined : parseSize(opts.blockSize, '--block-size')
      await checkFlag('--listen', 'listen', opts.listen)
      await checkFlag('--peer', 'peers', opts.peer)
      await checkFlag('--trust', 'trustedPublishers', opts.trust)
      await checkFlag('--control-port', 'controlPort', controlPort)
      await checkFlag('--block-size', 'blockSize', blockSize)
      await checkOpenListen({ listen: opts.listen, networkKey: swarm.networkKey, allowPeers: swarm.allowPeers, insecureOpen: opts.insecureOpen })
      const { initDataDir, checkNetworkKeyFile } = await import('@cachecloud/daemon/settings')
      if (swarm.networkKey !== undefined && !swarm.networkKey.startsWith('/key/swarm/')) {
        await checkNetworkKeyFile(swarm.networkKey).catch((err: Error) => { throw new UsageError(`--network-key: ${err.message}`) })
      }
      const { configPath, config, peerId, publisherKey } = await initDataDir(dataDir, {
        listen: opts.listen,
        peers: opts.peer,
        trustedPublishers: opts.trust,
        controlPort,
        blockSize,
        insecureOpen: opts.insecureOpen,
        swarm
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
