import { spawn, type ChildProcess } from 'node:child_process'
import { open, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import { DAEMON_NODE_ARGS } from 'cachepoint/launcher'
import type { Host } from './netns.js'
import type { Command, NodeConfig } from './node.js'

const NODE_JS = fileURLToPath(new URL('./node.js', import.meta.url))
const RELAY_JS = fileURLToPath(new URL('./relay.js', import.meta.url))
const OBSERVER_JS = fileURLToPath(new URL('./observer.js', import.meta.url))
const CLI_JS = fileURLToPath(new URL('../../../apps/cachepoint/dist/src/cli.js', import.meta.url))
/** Extra node flags for every runner and daemon process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/p` (node refuses those in NODE_OPTIONS). */
const NODE_ARGS = (process.env.CACHECLOUD_SIM_NODE_ARGS ?? '').split(' ').filter(a => a !== '')

/** Creates a real CachePoint data directory (cachepoint init) with the swarm fields of `config`; returns its publisher key. */
export async function initDaemonDir (config: NodeConfig): Promise<string> {
  const { initDataDir } = await import('@cachecloud/daemon')
  // the network key or allow-list goes in at init: a listen address beyond loopback is refused without one
  const guard = {
    ...(config.networkKeyFile !== undefined ? { networkKey: config.networkKeyFile } : {}),
    ...(config.allowPeers !== undefined ? { allowPeers: config.allowPeers } : {})
  }
  const result = await initDataDir(config.dataDir, { listen: config.listen, trustedPublishers: config.trust, swarm: guard })
  const path = join(config.dataDir, 'config.json')
  const doc = JSON.parse(await readFile(path, 'utf8')) as Record<string, unknown>
  Object.assign(doc, {
    // debug: the per-block WAN lines the harness counts (wanlog.ts)
    logLevel: 'debug',
    site: config.site,
    mdns: config.mdns,
    ...(config.bootstrap !== undefined ? { bootstrap: config.bootstrap } : {}),
    ...(config.networkKeyFile !== undefined ? { networkKey: config.networkKeyFile } : {}),
    ...(config.allowPeers !== undefined ? { allowPeers: config.allowPeers } : {}),
    ...(config.wan !== undefined ? { wan: config.wan } : {}),
    ...(config.rolloutIntervalSeconds !== undefined ? { rolloutIntervalSeconds: config.rolloutIntervalSeconds } : {}),
    subscriptions: (config.subscriptions ?? []).map(s => ({ name: s.name, policy: s.policy ?? 'auto' }))
  })
  await writeFile(path, JSON.stringify(doc, null, 2))
  return result.publisherKey
}

type Reply = { id: number, ok: boolean, result?: unknown, error?: string }
type Event = { event: string, [key: string]: unknown }
type CommandInput = Command extends infer C ? C extends { id: number } ? Omit<C, 'id'> : never : never

/** A node process running in its host's namespace, driven over stdin/stdout. */
export class SimNode {
  peerId = ''
  readonly events: Event[] = []
  private proc?: ChildProcess
  private daemon?: ChildProcess
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly eventWaiters: Array<{ match: (e: Event) => boolean, resolve: (e: Event) => void }> = []

  /**
   * `daemon`: a real `cachepoint daemon` (data directory made with initDaemonDir) driven through relay.ts; `runner`: node.ts;
   * `observer`: observer.ts, a bare libp2p host that collects the rollout reports of `config.subscriptions` and counts them.
   */
  constructor (readonly host: Host, readonly config: NodeConfig, private readonly dir: string, readonly kind: 'runner' | 'daemon' | 'observer' = 'runner') {}

  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  async start (): Promise<void> {
    let proc: ChildProcess
    if (this.kind === 'daemon') {
      const log = await open(join(this.config.dataDir, 'daemon.out'), 'a')
      this.daemon = spawn('ip', ['netns', 'exec', this.host.ns, process.execPath, ...DAEMON_NODE_ARGS, ...NODE_ARGS, CLI_JS, 'daemon', '--data-dir', this.config.dataDir], { stdio: ['ignore', log.fd, log.fd] })
      this.daemon.once('exit', () => { void log.close() })
      proc = spawn('ip', ['netns', 'exec', this.host.ns, process.execPath, RELAY_JS, this.config.dataDir], { stdio: ['pipe', 'pipe', 'inherit'] })
    } else {
      const file = join(this.dir, `${this.host.name}${this.kind === 'observer' ? '-observer' : ''}.json`)
      await writeFile(file, JSON.stringify(this.config))
      proc = spawn('ip', ['netns', 'exec', this.host.ns, process.execPath, ...NODE_ARGS, this.kind === 'observer' ? OBSERVER_JS : NODE_JS, file], { stdio: ['pipe', 'pipe', 'inherit'] })
    }
    this.proc = proc
    createInterface({ input: proc.stdout! }).on('line', line => {
      let msg: Reply | Event
      try { msg = JSON.parse(line) as Reply | Event } catch { return }
      if ('id' in msg && typeof msg.id === 'number') {
        const w = this.waiting.get(msg.id)
        this.waiting.delete(msg.id)
        if (msg.ok) w?.resolve(msg.result)
        else w?.reject(new Error(`${this.host.name}: ${msg.error ?? 'failed'}`))
        return
      }
      const event = { ...(msg as Event), at: Date.now() }
      this.events.push(event)
      for (const w of [...this.eventWaiters]) if (w.match(event)) { this.eventWaiters.splice(this.eventWaiters.indexOf(w), 1); w.resolve(event) }
    })
    proc.on('exit', () => {
      for (const w of this.waiting.values()) w.reject(new Error(`${this.host.name} exited`))
      this.waiting.clear()
    })
    const startedAt = Date.now()
    const ready = await this.waitEvent(e => (e.event === 'ready' || e.event === 'fatal') && Number(e.at) >= startedAt, 120_000)
    if (ready.event === 'fatal') throw new Error(`${this.host.name} failed to start: ${String(ready.error)}`)
    this.peerId = String(ready.peerId)
  }

  get addr (): string { return `/ip4/${this.host.ip}/tcp/4001/p2p/${this.peerId}` }

  async call<T = unknown> (command: CommandInput): Promise<T> {
    if (!this.running) throw new Error(`${this.host.name} is not running`)
    const id = this.nextId++
    const promise = new Promise<unknown>((resolve, reject) => { this.waiting.set(id, { resolve, reject }) })
    this.proc!.stdin!.write(JSON.stringify({ ...command, id }) + '\n')
    return await promise as T
  }

  async waitEvent (match: (e: Event) => boolean, timeoutMs: number): Promise<Event> {
    const seen = this.events.find(match)
    if (seen !== undefined) return seen
    return await new Promise<Event>((resolve, reject) => {
      const timer = setTimeout(() => { reject(new Error(`${this.host.name}: no matching event within ${timeoutMs} ms`)) }, timeoutMs)
      this.eventWaiters.push({ match, resolve: e => { clearTimeout(timer); resolve(e) } })
    })
  }

  /** SIGKILL: the process dies mid-whatever, as a power cut would. */
  kill (): void {
    this.daemon?.kill('SIGKILL')
    this.proc?.kill('SIGKILL')
  }

  async stop (): Promise<void> {
    if (!this.running) return
    const exited = new Promise(resolve => this.proc!.once('exit', resolve))
    await Promise.race([this.call({ cmd: 'stop' }).catch(() => {}), new Promise(resolve => setTimeout(resolve, 5000))])
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3000))])
    if (this.running) this.proc!.kill('SIGKILL')
    const daemon = this.daemon
    if (daemon !== undefined && daemon.exitCode === null && daemon.signalCode === null) {
      const gone = new Promise(resolve => daemon.once('exit', resolve))
      daemon.kill('SIGTERM')
      await Promise.race([gone, new Promise(resolve => setTimeout(resolve, 5000))])
      if (daemon.exitCode === null && daemon.signalCode === null) daemon.kill('SIGKILL')
    }
  }
}
