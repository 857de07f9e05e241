import { createHash } from 'node:crypto'
import { open, readFile, truncate } from 'node:fs/promises'
import { hostname, userInfo } from 'node:os'
import { signText, verifyText, type AuditKey } from './audit-key.js'
import { AUDIT_GENESIS, AUDIT_SIG_ENTRY, AUDIT_SIG_HEAD, AUDIT_VERSION, MAX_AUDIT_LINE_BYTES } from './constants.js'
import { AuditChainBrokenError, AuditKeyRequiredError, InvalidAuditKeyError } from './errors.js'
import { appendDurable, writeFileAtomic600 as writeFileAtomic } from './fs.js'
import { withLockFile } from './lock.js'

/** The process that wrote an entry, as the OS reports it (not a flag). */
export interface AuditWho {
  user: string
  uid: number
  host: string
  pid: number
  /** $SUDO_USER when running as root through sudo (as sudo set it; informative). */
  sudoUser?: string
}

/** One audit entry (docs/formats/dcstore.md#audit-log). */
export interface AuditEntry {
  v: typeof AUDIT_VERSION
  seq: number
  at: string
  who: AuditWho
  /** Who the operator said they are (`--operator`), beside the OS user. */
  operator?: string
  /** The audit key that signed it (`ed25519:...`). */
  key: string
  /** An intent is written before acting, its outcome after. */
  kind: 'intent' | 'outcome'
  action: string
  /** The request (intent only). */
  params?: Record<string, unknown>
  /** The intent's seq (outcome only). */
  intent?: number
  /** Whether the action succeeded (outcome only). */
  ok?: boolean
  result?: Record<string, unknown>
  /** Hash of the previous entry (AUDIT_GENESIS for the first). */
  prev: string
  /** SHA-256 hex of the JSON of every field above, in this order. */
  hash: string
  /** ed25519 signature (base64url) of AUDIT_SIG_ENTRY + hash. */
  sig: string
}

/** The last entry's seq and hash, signed: `audit.head`. */
export interface AuditHead { seq: number, hash: string }

export interface AuditReport {
  entries: number
  head: AuditHead
  /** The key the entries verified against. */
  key: string
  /** Intents without an outcome: an action running now, or one that crashed or was killed before it finished. */
  open: AuditEntry[]
}

type Body = Omit<AuditEntry, 'hash' | 'sig'>

function bodyOf (e: Body): Body {
  const b: Record<string, unknown> = { v: e.v, seq: e.seq, at: e.at, who: e.who }
  if (e.operator !== undefined) b.operator = e.operator
  b.key = e.key
  b.kind = e.kind
  b.action = e.action
  if (e.params !== undefined) b.params = e.params
  if (e.intent !== undefined) b.intent = e.intent
  if (e.ok !== undefined) b.ok = e.ok
  if (e.result !== undefined) b.result = e.result
  b.prev = e.prev
  return b as unknown as Body
}

const hashOf = (e: Body): string => createHash('sha256').update(JSON.stringify(bodyOf(e))).digest('hex')
const headText = (h: AuditHead): string => `${AUDIT_SIG_HEAD}${h.seq}\n${h.hash}`

let cachedWho: AuditWho | undefined
/** The OS user of this process. */
export function processWho (): AuditWho {
  if (cachedWho !== undefined) return cachedWho
  const uid = process.getuid?.() ?? -1
  let user: string
  try { user = userInfo().username } catch { user = `uid:${uid}` }
  const who: AuditWho = { user, uid, host: hostname(), pid: process.pid }
  const sudo = process.env.SUDO_USER
  if (uid === 0 && sudo !== undefined && sudo !== '') who.sudoUser = sudo.slice(0, 256)
  cachedWho = who
  return who
}

async function readText (path: string): Promise<string> {
  try { return await readFile(path, 'utf8') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return ''; throw err }
}

/** The file's lines, each bounded (a longer one is damage), without reading the whole file at once. */
async function * linesOf (path: string): AsyncGenerator<string> {
  let handle
  try { handle = await open(path, 'r') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return; throw err }
  try {
    let pending = ''
    for await (const chunk of handle.createReadStream({ encoding: 'utf8', highWaterMark: 256 * 1024 })) {
      pending += chunk as string
      let nl: number
      while ((nl = pending.indexOf('\n')) >= 0) { yield pending.slice(0, nl); pending = pending.slice(nl + 1) }
      if (pending.length > MAX_AUDIT_LINE_BYTES) throw new AuditChainBrokenError(`audit log holds a line longer than ${MAX_AUDIT_LINE_BYTES} bytes`)
    }
    if (pending !== '') yield pending
  } finally { await handle.close() }
}

/** The last bytes of a file (at most `max`) and its size. */
async function tailOf (path: string, max: number): Promise<{ text: string, size: number }> {
  let handle
  try { handle = await open(path, 'r') } catch (err) { if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { text: '', size: 0 }; throw err }
  try {
    const { size } = await handle.stat()
    const len = Math.min(size, max)
    const buf = Buffer.alloc(len)
    await handle.read(buf, 0, len, size - len)
    return { text: buf.toString('utf8'), size }
  } finally { await handle.close() }
}

function parseEntry (line: string, where: string): AuditEntry {
  let e: AuditEntry
  try { e = JSON.parse(line) as AuditEntry } catch { throw new AuditChainBrokenError(`${where} is not JSON`) }
  if (typeof e !== 'object' || e === null || Array.isArray(e)) throw new AuditChainBrokenError(`${where} is not an object`)
  if (e.v !== AUDIT_VERSION) throw new AuditChainBrokenError(`${where} is not a signed entry (format ${String(e.v ?? 1)}; this log needs format ${AUDIT_VERSION}: archive an older log, see docs/formats/dcstore.md)`)
  return e
}

/**
 * Append-only audit log (JSON lines): each entry chained to the previous one
 * by its hash and signed with the audit key, and a signed head file naming
 * the last entry, so editing, inserting, reordering, cutting entries off the
 * end or recomputing the chain without the key are each detected. Actions are
 * logged as an intent before they act and an outcome after (`run`).
 */
export class AuditLog {
  private queue: Promise<unknown> = Promise.resolve()

  /** `serialize`: a lock across hosts (PostgreSQL), taken around the file lock of each append when several store processes share the log. */
  constructor (
    private readonly path: string,
    private readonly headPath: string,
    private readonly init: { key?: AuditKey, operator?: string, serialize?: <T>(fn: () => Promise<T>) => Promise<T> } = {}
  ) {}

  private signer (): AuditKey {
    const key = this.init.key
    if (key?.privateKey === undefined) throw new AuditKeyRequiredError('this command is audited and needs the audit signing key: --audit-key FILE or $DCSTORE_AUDIT_KEY (create one with `dcstore audit keygen --out FILE`)')
    return key
  }

  /** Every entry as written, oldest first, not checked: run verify() first to rely on them. */
  async * entries (): AsyncGenerator<AuditEntry> {
    let n = 0
    for await (const line of linesOf(this.path)) yield parseEntry(line, `audit entry ${++n}`)
  }

  /**
   * Runs an audited action: an intent entry first (nothing is done unless it
   * is durable), the action, then its outcome (ok and `summary` of the result,
   * or the error's code and message, rethrown).
   */
  async run<T> (action: string, params: Record<string, unknown>, fn: () => Promise<T>, summary: (r: T) => Record<string, unknown>): Promise<T> {
    const intent = await this.append({ kind: 'intent', action, params })
    let r: T
    try {
      r = await fn()
    } catch (err) {
      const e = err as { code?: unknown, message?: unknown, name?: unknown }
      await this.append({ kind: 'outcome', action, intent: intent.seq, ok: false, result: { error: typeof e.code === 'string' ? e.code : String(e.name ?? 'Error'), message: String(e.message ?? err).slice(0, 1000) } })
      throw err
    }
    await this.append({ kind: 'outcome', action, intent: intent.seq, ok: true, result: summary(r) })
    return r
  }

  /** Appends one entry (under the log's lock, across processes). */
  append (what: Pick<AuditEntry, 'kind' | 'action' | 'params' | 'intent' | 'ok' | 'result'>): Promise<AuditEntry> {
    const key = this.signer()
    // one writer at a time across processes (the server and discovery commands), and within this one
    const serialize = this.init.serialize ?? (async <T>(fn: () => Promise<T>): Promise<T> => await fn())
    const run = this.queue.then(async () => await serialize(async () => await withLockFile(this.path + '.lock', async () => {
      const tail = await this.recover(key)
      const base: Body = {
        v: AUDIT_VERSION, seq: tail.seq + 1, at: new Date().toISOString(), who: processWho(),
        ...(this.init.operator === undefined ? {} : { operator: this.init.operator }), key: key.id, ...what, prev: tail.hash
      }
      const hash = hashOf(base)
      const entry: AuditEntry = { ...bodyOf(base), hash, sig: signText(key, AUDIT_SIG_ENTRY + hash) }
      await appendDurable(this.path, JSON.stringify(entry) + '\n')
      await this.writeHead(key, { seq: entry.seq, hash })
      return entry
    })))
    this.queue = run.catch(() => {})
    return run
  }

  private async writeHead (key: AuditKey, head: AuditHead): Promise<void> {
    await writeFileAtomic(this.headPath, JSON.stringify({ ...head, sig: signText(key, headText(head)) }) + '\n')
  }

  private entryValid (key: AuditKey, e: AuditEntry): boolean {
    return e.hash === hashOf(e) && e.key === key.id && verifyText(key, AUDIT_SIG_ENTRY + e.hash, e.sig)
  }

  /**
   * The head to append after, under the lock, repairing what a writer killed
   * mid-append left: a torn last line (never acknowledged) is cut off, and a
   * signed entry appended whose head was not yet rewritten (it chains from the
   * head) moves the head forward. A head not signed by the key, or a last
   * entry that is neither the head's nor its successor, is damage: nothing is
   * appended to a broken log (`dcstore audit verify` says where).
   */
  private async recover (key: AuditKey): Promise<AuditHead> {
    const { text, size } = await tailOf(this.path, MAX_AUDIT_LINE_BYTES + 1)
    let complete = text
    if (text !== '' && !text.endsWith('\n')) {
      const nl = text.lastIndexOf('\n')
      if (nl < 0 && size > text.length) throw new AuditChainBrokenError('audit log ends in a line too long to be an entry: run `dcstore audit verify`')
      complete = text.slice(0, nl + 1)
      await truncate(this.path, size - Buffer.byteLength(text.slice(nl + 1)))
    }
    const last = complete.trimEnd().split('\n').at(-1) ?? ''
    // a format-1 log, or another key's, says so before its head is judged
    const e = last === '' ? undefined : parseEntry(last, 'the last audit entry')
    if (e !== undefined && typeof e.key === 'string' && e.key !== key.id) throw new InvalidAuditKeyError(`this audit log is signed by ${e.key.slice(0, 60)}, not by the given audit key ${key.id}: use the key it was started with`)
    const head = await this.head(key)
    const broken = (why: string): AuditChainBrokenError => new AuditChainBrokenError(`audit log damaged (${why}): nothing appended; run \`dcstore audit verify\``)
    if (e === undefined) {
      if (head.seq !== 0) throw broken(`the head names entry ${head.seq} of an empty log`)
      return head
    }
    if (e.seq === head.seq && e.hash === head.hash) return head
    if (e.seq === head.seq + 1 && e.prev === head.hash && this.entryValid(key, e)) {
      const moved = { seq: e.seq, hash: e.hash }
      await this.writeHead(key, moved)
      return moved
    }
    throw broken(`its last entry ${String(e.seq)} does not match its head ${head.seq}`)
  }

  private async head (key: AuditKey): Promise<AuditHead> {
    const text = (await readText(this.headPath)).trim()
    if (text === '') return { seq: 0, hash: AUDIT_GENESIS }
    let h: { seq?: unknown, hash?: unknown, sig?: unknown }
    try { h = JSON.parse(text) as typeof h } catch { throw new AuditChainBrokenError('audit head file is not JSON') }
    if (typeof h.seq !== 'number' || !Number.isSafeInteger(h.seq) || typeof h.hash !== 'string') throw new AuditChainBrokenError('audit head file is not a head')
    const head = { seq: h.seq, hash: h.hash }
    if (!verifyText(key, headText(head), h.sig)) throw new AuditChainBrokenError('audit head is not signed by the audit key (forged or edited)')
    return head
  }

  /**
   * Checks every entry (sequence, chain, hash, signature by `key`), that each
   * outcome answers an open intent, and the signed head; with `anchor` (a head
   * recorded outside the machine) also that the log still holds that entry.
   * Throws AuditChainBrokenError at the first damage.
   */
  async verify (options: { anchor?: AuditHead } = {}): Promise<AuditReport> {
    const key = this.init.key
    if (key === undefined) throw new AuditKeyRequiredError('verifying the audit log needs the audit public key: --audit-key FILE or $DCSTORE_AUDIT_KEY')
    let prev = AUDIT_GENESIS
    let n = 0
    let anchored = false
    const open = new Map<number, AuditEntry>()
    for await (const line of linesOf(this.path)) {
      n++
      const e = parseEntry(line, `audit entry ${n}`)
      if (e.seq !== n) throw new AuditChainBrokenError(`audit entry ${n} has sequence number ${String(e.seq)}: entries were removed, inserted or reordered`)
      if (e.prev !== prev) throw new AuditChainBrokenError(`audit entry ${n} does not follow entry ${n - 1}: entries were removed, inserted or reordered`)
      if (e.hash !== hashOf(e)) throw new AuditChainBrokenError(`audit entry ${n} was edited (hash mismatch)`)
      if (e.key !== key.id) throw new AuditChainBrokenError(`audit entry ${n} names another key (${String(e.key).slice(0, 60)}) than the audit key ${key.id}`)
      if (!verifyText(key, AUDIT_SIG_ENTRY + e.hash, e.sig)) throw new AuditChainBrokenError(`audit entry ${n} is not signed by the audit key (forged: the chain was recomputed without the key)`)
      if (e.kind === 'intent') open.set(n, e)
      else if (e.kind === 'outcome') {
        const i = typeof e.intent === 'number' ? open.get(e.intent) : undefined
        if (i === undefined || i.action !== e.action) throw new AuditChainBrokenError(`audit entry ${n} is the outcome of no open ${e.action} intent`)
        open.delete(e.intent!)
      } else throw new AuditChainBrokenError(`audit entry ${n} has kind ${String(e.kind)}`)
      if (options.anchor?.seq === n) {
        if (e.hash !== options.anchor.hash) throw new AuditChainBrokenError(`audit entry ${n} is not the anchored one (hash ${e.hash}, anchored ${options.anchor.hash}): the log was rewritten`)
        anchored = true
      }
      prev = e.hash
    }
    if (options.anchor !== undefined && !anchored) throw new AuditChainBrokenError(`audit log ends at entry ${n} but entry ${options.anchor.seq} was anchored: entries were removed`)
    const head = await this.head(key)
    if (head.seq !== n || head.hash !== prev) throw new AuditChainBrokenError(`audit log ends at entry ${n} but its head says ${head.seq}: entries were removed or the head edited`)
    return { entries: n, head, key: key.id, open: [...open.values()] }
  }
}
