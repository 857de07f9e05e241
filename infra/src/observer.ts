/**
 * A bare libp2p host, run in a namespace by the harness, that collects the
 * rollout reports of some images (it subscribes to their rollout topics, as a
 * publisher does) and records when each sender's reports arrive: the count of
 * reports a node sends per interval, seen from a collector's side. JSON lines
 * on stdin and stdout, as node.ts; `reports` answers { peer: [arrival ms] }.
 */
import '@cachecloud/core/polyfill'
import { mkdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createNetwork, loadOrCreatePeerKey, type PubSubMessage } from '@cachecloud/network'
import { rolloutTopic } from '@cachecloud/swarm'
import type { Command, NodeConfig } from './node.js'
import { out, runChild, serveCommands } from './child-protocol.js'

async function main (): Promise<void> {
  const config = JSON.parse(await readFile(process.argv[2], 'utf8')) as NodeConfig
  await mkdir(config.dataDir, { recursive: true })
  const libp2p = await createNetwork({
    privateKey: await loadOrCreatePeerKey(join(config.dataDir, 'observer.key')),
    listen: config.listen,
    ...(config.site !== '' ? { site: config.site } : {}),
    bootstrap: config.bootstrap,
    mdns: false,
    networkKey: config.networkKeyFile !== undefined ? await readFile(config.networkKeyFile) : undefined,
    allowPeers: config.allowPeers
  })
  const topics = new Set((config.subscriptions ?? []).map(s => rolloutTopic(s.name)))
  const heard = new Map<string, number[]>()
  libp2p.services.pubsub.addEventListener('message', (evt: CustomEvent<PubSubMessage>) => {
    const m = evt.detail
    if (!topics.has(m.topic) || m.type !== 'signed') return
    const from = m.from.toString()
    heard.set(from, [...(heard.get(from) ?? []), Date.now()])
  })
  for (const topic of topics) libp2p.services.pubsub.subscribe(topic)

  const handle = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'reports': return Object.fromEntries(heard)
      case 'status': return { peerId: libp2p.peerId.toString(), peers: libp2p.getPeers().length }
      case 'stop': await libp2p.stop(); setImmediate(() => process.exit(0)); return {}
      default: throw new Error(`an observer does not ${c.cmd}`)
    }
  }
  out({ event: 'ready', peerId: libp2p.peerId.toString(), addrs: libp2p.getMultiaddrs().map(String) })
  await serveCommands(handle)
}

runChild(main)
