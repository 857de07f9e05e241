import { createHash } from 'node:crypto'
import { readFile, truncate } from 'node:fs/promises'
import { AUDIT_GENESIS } from './constants.js'
import { AuditChainBrokenError } from './errors.js'
import { appendDurable, writeFileAtomic600 as writeFileAtomic } from './fs.js'
import { withLockFile } from './lock.js'

/** One audit entry (docs/formats/personal.md#audit-log). */
export interface AuditEntry {
  seq: number
  at: string
  who: string
  action: string
  params: Record<string, unknown>
  result: Record<string, unknown>
  /** Hash of the previous entry (AUDIT_GENESIS for the first). */
  prev: string
  /** SHA-256 hex of `prev + "\n" + JSON of {seq, at, who, action, params, result}`. */
  hash: string
}

function entryHash (prev: string, e: Omit<AuditEntry, 'prev' | 'hash'>): string {
  const body = JSON.stringify({ seq: e.seq, at: e.at, who: e.who, action: e.action, params: e.params, result: e.result })
  return createHash('sha256').update(prev + '\n' + body).digest('hex')
}

async function readText (path: string): Promise<string> {
  try { return await readFile(path, 'utf8') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''; throw err }
}

/**
 * Append-only, hash-chained audit log (JSON lines) with a head file holding
 * the last sequence number and hash, so that cutting entries off the end is
 * detected as well as editing, inserting or reordering them.
 */
export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve()

  constructor (private readonly path: string, private readonly headPath: string) {}

  append (who: string, action: string, params: Record<string, unknown>, result: Record<string, unknown>): Promise<AuditEntry> {
    // one writer at a time across processes (the server and discovery commands), and within this one
    const run = this.queue.then(async () => await withLockFile(this.path + '.lock', async () => {
      const tail = await this.recover()
      const base = { seq: tail.seq + 1, at: new Date().toISOString(), who, action, params, result }
      const entry: AuditEntry = { ...base, prev: tail.hash, hash: entryHash(tail.hash, base) }
      await appendDurable(this.path, JSON.stringify(entry) + '\n')
      await writeFileAtomic(this.headPath, JSON.stringify({ seq: entry.seq, hash: entry.hash }) + '\n')
      return entry
    }))
    this.queue = run.catch(() => {})
    return run
  }

  /**
   * The head to append after, under the lock, repairing what a writer killed
   * mid-append left: a torn last line (never acknowledged) is cut off, and an
   * entry appended whose head was not yet rewritten (it chains from the head)
   * moves the head forward. Anything else is left for `verify` to report.
   */
  private async recover (): Promise<{ seq: number, hash: string }> {
    const head = await this.head()
    const text = await readText(this.path)
    let complete = text
    if (text !== '' && !text.endsWith('\n')) {
      complete = text.slice(0, text.lastIndexOf('\n') + 1)
      await truncate(this.path, Buffer.byteLength(complete))
    }
    const last = complete.trimEnd().split('\n').at(-1) ?? ''
    if (last === '') return head
    let e: AuditEntry
    try { e = JSON.parse(last) as AuditEntry } catch { return head }
    if (e.seq === head.seq + 1 && e.prev === head.hash && entryHash(head.hash, e) === e.hash) {
      const moved = { seq: e.seq, hash: e.hash }
      await writeFileAtomic(this.headPath, JSON.stringify(moved) + '\n')
      return moved
    }
    return head
  }

  private async head (): Promise<{ seq: number, hash: string }> {
    const text = (await readText(this.headPath)).trim()
    if (text === '') return { seq: 0, hash: AUDIT_GENESIS }
    try { return JSON.parse(text) as { seq: number, hash: string } } catch { throw new AuditChainBrokenError('audit head file is not JSON') }
  }

  /** Recomputes the chain; throws AuditChainBrokenError at the first inconsistency. */
  async verify (): Promise<{ entries: number, head: { seq: number, hash: string } }> {
    const lines = (await readText(this.path)).split('\n').filter(l => l !== '')
    let prev = AUDIT_GENESIS
    for (const [i, line] of lines.entries()) {
      let e: AuditEntry
      try { e = JSON.parse(line) as AuditEntry } catch { throw new AuditChainBrokenError(`audit entry ${i + 1} is not JSON`) }
      if (e.seq !== i + 1) throw new AuditChainBrokenError(`audit entry ${i + 1} has sequence number ${e.seq}`)
      if (e.prev !== prev) throw new AuditChainBrokenError(`audit entry ${e.seq} does not follow entry ${e.seq - 1}`)
      if (entryHash(prev, e) !== e.hash) throw new AuditChainBrokenError(`audit entry ${e.seq} was edited (hash mismatch)`)
      prev = e.hash
    }
    const head = await this.head()
    if (head.seq !== lines.length || head.hash !== prev) throw new AuditChainBrokenError(`audit log ends at entry ${lines.length} but its head says ${head.seq}: entries were removed or the head edited`)
    return { entries: lines.length, head }
  }
}
