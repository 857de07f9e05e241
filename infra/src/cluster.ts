import { spawn, type ChildProcess } from 'node:child_process'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { createInterface } from 'node:readline'
import { fileURLToPath } from 'node:url'
import type { Host } from './netns.js'
import type { Command, NodeConfig } from './node.js'

const NODE_JS = fileURLToPath(new URL('./node.js', import.meta.url))

type Reply = { id: number, ok: boolean, result?: unknown, error?: string }
type Event = { event: string, [key: string]: unknown }
type CommandInput = Command extends infer C ? C extends { id: number } ? Omit<C, 'id'> : never : never

/** A node process running in its host's namespace, driven over stdin/stdout. */
export class SimNode {
  peerId = ''
  readonly events: Event[] = []
  private proc?: ChildProcess
  private nextId = 1
  private readonly waiting = new Map<number, { resolve: (v: unknown) => void, reject: (e: Error) => void }>()
  private readonly eventWaiters: Array<{ match: (e: Event) => boolean, resolve: (e: Event) => void }> = []

  constructor (readonly host: Host, readonly config: NodeConfig, private readonly dir: string) {}

  get running (): boolean { return this.proc !== undefined && this.proc.exitCode === null && this.proc.signalCode === null }

  async start (): Promise<void> {
    const file = join(this.dir, `${this.host.name}.json`)
    await writeFile(file, JSON.stringify(this.config))
    const proc = spawn('ip', ['netns', 'exec', this.host.ns, process.execPath, NODE_JS, file], { stdio: ['pipe', 'pipe', 'inherit'] })
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
    const ready = await this.waitEvent(e => (e.event === 'ready' || e.event === 'fatal') && Number(e.at) >= startedAt, 30_000)
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
  kill (): void { this.proc?.kill('SIGKILL') }

  async stop (): Promise<void> {
    if (!this.running) return
    const exited = new Promise(resolve => this.proc!.once('exit', resolve))
    await Promise.race([this.call({ cmd: 'stop' }).catch(() => {}), new Promise(resolve => setTimeout(resolve, 5000))])
    await Promise.race([exited, new Promise(resolve => setTimeout(resolve, 3000))])
    if (this.running) this.proc!.kill('SIGKILL')
  }
}
