/**
 * Runs inside a host's namespace beside a real `cachepoint daemon` and relays
 * the harness's JSON-line commands (the same as node.ts) to the daemon's
 * control API on that namespace's loopback; reports `ready` and `pulled`
 * events (from the daemon's status stream and swarm status).
 */
import '@cachecloud/core/polyfill'
import { connectToDaemon, type ControlClient } from '@cachecloud/control'
import type { Command } from './node.js'
import { out, runChild, serveCommands } from './child-protocol.js'

async function connect (dataDir: string): Promise<ControlClient> {
  const end = Date.now() + 120_000
  while (true) {
    try {
      const client = await connectToDaemon(dataDir)
      await client.status()
      return client
    } catch (err) {
      if (Date.now() > end) throw err
      await new Promise(resolve => setTimeout(resolve, 200))
    }
  }
}

async function main (): Promise<void> {
  const dataDir = process.argv[2]
  const client = await connect(dataDir)
  const status = await client.status()
  const reported = new Set<string>()
  const check = async (): Promise<void> => {
    const swarm = await client.swarmStatus()
    for (const pull of swarm.pulls) {
      if (pull.state === 'complete' && !reported.has(pull.ref)) {
        reported.add(pull.ref)
        out({ event: 'pulled', ref: pull.ref, status: pull })
      }
    }
  }
  // the status stream says when something changed; a timer covers the rest
  client.watchStatus(() => { void check().catch(() => {}) }).catch(() => {})
  setInterval(() => { void check().catch(() => {}) }, 1000).unref()

  const handle = async (c: Command): Promise<unknown> => {
    switch (c.cmd) {
      case 'import': return await client.importImage({ file: c.file, name: c.name, version: c.version }, () => {})
      case 'publish': return await client.publish(c.ref)
      case 'plan': return await client.plan(c.ref)
      case 'pull': return await client.pull({ ref: c.ref }, () => {})
      case 'export': return await client.exportImage({ ref: c.ref, file: c.file, overwrite: true }, () => {})
      case 'status': return { ...await client.status(), swarm: await client.swarmStatus() }
      case 'pause': return await client.pause()
      case 'resume': return await client.resume()
      case 'rollout': {
        const [view] = await client.rollout?.(c.ref) ?? []
        if (view === undefined) throw new Error('this daemon has no rollout view')
        return view
      }
      case 'reports': throw new Error('not an observer')
      case 'stop': setImmediate(() => process.exit(0)); return {}
    }
  }
  out({ event: 'ready', peerId: status.peerId, addrs: status.addresses })
  await serveCommands(handle)
}

runChild(main)
