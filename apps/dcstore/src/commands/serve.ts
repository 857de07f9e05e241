import { join } from 'node:path'
import type { Command } from 'commander'
import { pino } from 'pino'
import { createDcStore, STORE_FILES } from '@cachecloud/dcstore'
import { blocksFor, dataDir, indexFor, type GlobalOptions } from '../context.js'
import { readDiscoveryKey, writeDiscoveryKey } from '../keys.js'
import { DcStoreMetrics } from '../metrics.js'
import { mkdir, readFile } from 'node:fs/promises'

export function registerServe (program: Command, globals: () => GlobalOptions): void {
  program.command('keygen')
    .description('create the organization\'s discovery key pair (X25519); prints the public key for node configs')
    .requiredOption('--out <file>', 'where to write the key file (mode 0600; keep it off the store\'s data directory)')
    .action(async (o: { out: string }) => { process.stdout.write(await writeDiscoveryKey(o.out) + '\n') })

  program.command('peer-id')
    .description('print the store\'s libp2p peer id (created on first use)')
    .action(async () => {
      await mkdir(dataDir(globals()), { recursive: true })
      const { loadOrCreatePeerKey } = await import('@cachecloud/network') // libp2p loads in ~1-2 s: only where needed
      const key = await loadOrCreatePeerKey(join(dataDir(globals()), STORE_FILES.peerKey))
      const { peerIdFromPrivateKey } = await import('@libp2p/peer-id')
      process.stdout.write(peerIdFromPrivateKey(key).toString() + '\n')
    })

  program.command('serve')
    .description('run the store: accept snapshots from enrolled CachePoints over /cachecloud/personal/1.2.0 (and 1.1.0), and their reads of the snapshots of their users over /cachecloud/personal-read/1.0.0')
    .option('--listen <multiaddr...>', 'addresses to listen on', ['/ip4/0.0.0.0/tcp/4100'])
    .option('--network-key <file>', 'the organization\'s network key (cachepoint network-key), as its CachePoints use: only members connect')
    .option('--allow-peer <peer-id...>', 'accept connections only from these peers (as the CachePoints\' allowPeers)')
    .option('--metrics <host:port>', 'serve Prometheus metrics at http://HOST:PORT/metrics (off loopback only with --metrics-token-file)')
    .option('--metrics-token-file <file>', 'bearer token a scrape must send (Prometheus: authorization.credentials_file)')
    .action(async (o: { listen: string[], networkKey?: string, allowPeer?: string[], metrics?: string, metricsTokenFile?: string }) => {
      const g = globals()
      if (g.discoveryKey === undefined) throw new Error('serve needs --discovery-key FILE (to index incoming snapshots)')
      const dir = dataDir(g)
      await mkdir(dir, { recursive: true })
      const { createNetwork, loadOrCreatePeerKey } = await import('@cachecloud/network')
      const metrics = new DcStoreMetrics(dir)
      if (o.metrics !== undefined) await metrics.configure(o.metrics, o.metricsTokenFile)
      const log = pino({ level: process.env.DCSTORE_LOG_LEVEL ?? 'info', ...metrics.loggerHooks() }, pino.destination(2))
      const networkKey = o.networkKey === undefined ? undefined : await readFile(o.networkKey)
      const libp2p = await createNetwork({
        privateKey: await loadOrCreatePeerKey(join(dir, STORE_FILES.peerKey)),
        listen: o.listen,
        ...(networkKey !== undefined ? { networkKey } : {}),
        ...(o.allowPeer !== undefined ? { allowPeers: o.allowPeer } : {}),
        logger: log.child({ component: 'network' })
      })
      const store = createDcStore({
        path: dir,
        ...indexFor(g),
        ...blocksFor(g),
        libp2p,
        discoveryPrivateKey: await readDiscoveryKey(g.discoveryKey),
        log,
        onEvent: e => { metrics.record(e) }
      })
      // the data directory's lock is taken here: a second serve (or a retention, an export running) fails with "in use"
      try { await store.start() } catch (err) { await store.stop().catch(() => {}); await libp2p.stop(); throw err }
      const metricsUrl = await metrics.start().catch(async (err: unknown) => { await store.stop(); await libp2p.stop(); throw err })
      // one line on stdout when ready: launchers and tests wait for it
      process.stdout.write(JSON.stringify({ peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(a => a.toString()), ...(metricsUrl !== undefined ? { metrics: metricsUrl } : {}) }) + '\n')
      await new Promise<void>(resolve => {
        process.once('SIGTERM', resolve)
        process.once('SIGINT', resolve)
      })
      await metrics.stop()
      await store.stop()
      await libp2p.stop()
    })
}
