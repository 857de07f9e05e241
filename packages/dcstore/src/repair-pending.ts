/**
 * The snapshots `check --repair` left lacking blocks (repair-pending.json,
 * docs/formats/dcstore.md#repair): each waits for the node that took it to
 * replicate again over /cachecloud/personal/1.2.0, when the store wants the
 * blocks it lacks of it. Replaced whole and atomically on each change; only
 * the process holding the data-directory lock (the serving one, or the
 * repair) writes it.
 */
import { readFile } from 'node:fs/promises'
import { MAX_PENDING_REPAIRS, REPAIR_FORMAT } from './constants.js'
import { RepairStateError } from './errors.js'
import { writeFileAtomic600 } from './fs.js'

export interface PendingRepair {
  user: string
  /** The node (peer id) that took the snapshot: the one that must replicate. */
  node: string
  snapshot: string
  root: string
  /** The snapshot's time (the node's clock). */
  time: string
  /** Bad block references the repair left (check's count). */
  badBlocks: number
  /** When the repair recorded it. */
  since: string
  /** Blocks the node answered it no longer has (0: none so far): the snapshot cannot be completed from it. */
  unavailable: number
}

const isEntry = (v: unknown): v is PendingRepair => {
  if (typeof v !== 'object' || v === null) return false
  const o = v as Record<string, unknown>
  return ['user', 'node', 'snapshot', 'root', 'time', 'since'].every(k => typeof o[k] === 'string') && typeof o.badBlocks === 'number' && typeof o.unavailable === 'number'
}

export class PendingRepairs {
  private entries = new Map<string, PendingRepair>()
  /** Saves in order: concurrent streams resolving snapshots never write an older list over a newer one. */
  private saving: Promise<void> = Promise.resolve()
  constructor (private readonly path: string) {}

  /** Forgets the list (a repair recomputes it whole: only the `since` dates are lost). */
  reset (): this { this.entries.clear(); return this }

  async load (): Promise<this> {
    let text: string
    try { text = await readFile(this.path, 'utf8') } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') { this.entries.clear(); return this }
      throw err
    }
    let v: unknown
    try { v = JSON.parse(text) } catch (err) { throw new RepairStateError(`${this.path} is not JSON: ${(err as Error).message} (dcstore check --repair recomputes it)`, { cause: err }) }
    const o = v as { format?: unknown, snapshots?: unknown }
    if (o?.format !== REPAIR_FORMAT || !Array.isArray(o.snapshots) || o.snapshots.length > MAX_PENDING_REPAIRS || !o.snapshots.every(isEntry)) {
      throw new RepairStateError(`${this.path} is not a ${REPAIR_FORMAT} list of snapshots (dcstore check --repair recomputes it)`)
    }
    this.entries = new Map(o.snapshots.map(e => [e.snapshot, e]))
    return this
  }

  list (): PendingRepair[] { return [...this.entries.values()] }

  get (snapshot: string): PendingRepair | undefined { return this.entries.get(snapshot) }

  /** The snapshots of `user` taken by `node` that the node can still complete, oldest first. */
  of (user: string, node: string): PendingRepair[] {
    return this.list().filter(e => e.user === user && e.node === node && e.unavailable === 0).sort((a, b) => a.time.localeCompare(b.time))
  }

  /** Replaces the whole list (a repair's result). */
  async replace (entries: PendingRepair[]): Promise<void> {
    this.entries = new Map(entries.map(e => [e.snapshot, e]))
    await this.save()
  }

  /** The snapshot is whole again. */
  async resolve (snapshot: string): Promise<void> {
    if (this.entries.delete(snapshot)) await this.save()
  }

  /** Its node answered `blocks` of its blocks as not held: it is not asked again. */
  async unavailable (snapshot: string, blocks: number): Promise<void> {
    const e = this.entries.get(snapshot)
    if (e === undefined) return
    e.unavailable = blocks
    await this.save()
  }

  private async save (): Promise<void> {
    const run = this.saving.then(async () => { await writeFileAtomic600(this.path, JSON.stringify({ format: REPAIR_FORMAT, snapshots: this.list() }, null, 1) + '\n') })
    this.saving = run.catch(() => {})
    await run
  }
}
