import { mkdir, stat } from 'node:fs/promises'
import { join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import { MAX_TREE_ENTRIES } from '@cachecloud/personal-format'
import { AuditLog, processWho, type AuditHead, type AuditReport } from './audit.js'
import { PgAdvisoryLock } from './pg-lock.js'
import { AUDIT_PG_LOCK_KEY, DEFAULT_COMMIT_BYTES, HOLDS_PG_LOCK_KEY, INDEX_PG_LOCK_KEY, DEFAULT_MAX_INBOUND_STREAMS, DEFAULT_TIMEOUT_MS, STORE_FILES } from './constants.js'
import { Discovery } from './discovery.js'
import { assertValidUser, Enrollment, type EnrollmentTable } from './enrollment.js'
import { DiscoveryKeyRequiredError, NoStoreError, RepairStateError, RepairUnsupportedError } from './errors.js'
import { assertNotServed, lockServing, lockStore, withLockFile, type HeldLock } from './lock.js'
import type { HoldsGuard } from './holds.js'
import { runRetention, type RetentionResult } from './retention.js'
import { runCheck, type CheckOptions, type CheckReport } from './check.js'
import { runBackendCheck } from './backend-check.js'
import { runRepair, type RepairReport } from './repair.js'
import { PendingRepairs } from './repair-pending.js'
import { ReplicationServer } from './server.js'
import { ReadServer } from './read-server.js'
import { SqliteVersionIndex } from './sqlite-index.js'
import { PgVersionIndex } from './pg-index.js'
import type { PoolConfig } from 'pg'
import type { VersionIndex } from './version-index.js'
import type { DcStore, DcStoreInit } from './index.js'
import type { BlockBackend } from './backend.js'
import { createBackend } from './backends.js'

/** The PostgreSQL index backend (`pg` pool config: connectionString, host, port, database, user, ...). */
export function createPgIndex (config: PoolConfig): VersionIndex {
  return new PgVersionIndex(config)
}

/** The SQLite index backend at `path`. */
export function createSqliteIndex (path: string): VersionIndex {
  return new SqliteVersionIndex(path)
}

/** How long a starting process waits for another to finish creating the index schema. */
const INDEX_START_WAIT_MS = 60_000

export class DefaultDcStore implements DcStore {
  readonly discovery: Discovery
  private readonly index: VersionIndex
  private readonly audit: AuditLog
  private readonly enrollments: Enrollment
  private readonly backend: BlockBackend
  private readonly auditLock?: PgAdvisoryLock
  private readonly holdsPgLock?: PgAdvisoryLock
  /** No hold placed while retention decides, in any process: the holds lock file, and with a shared database its advisory lock too. */
  private readonly guardHolds: HoldsGuard
  private readonly repairs: PendingRepairs
  private server?: ReplicationServer
  private reads?: ReadServer
  /** The data-directory lock, taken before any block store is opened. */
  private lock?: Promise<HeldLock>
  /** This process's serving marker, on a multi-writer backend (instead of the data-directory lock). */
  private serving?: HeldLock

  constructor (private readonly init: DcStoreInit) {
    this.index = init.index ?? createSqliteIndex(join(init.path, STORE_FILES.index))
    const auditLock = init.coordination === undefined ? undefined : new PgAdvisoryLock(init.coordination, AUDIT_PG_LOCK_KEY)
    this.auditLock = auditLock
    const holdsPgLock = init.coordination === undefined ? undefined : new PgAdvisoryLock(init.coordination, HOLDS_PG_LOCK_KEY, 'the legal holds\' lock')
    this.holdsPgLock = holdsPgLock
    const holdsFile = join(init.path, STORE_FILES.holdsLock)
    this.guardHolds = async <T>(fn: () => Promise<T>): Promise<T> => {
      const local = async (): Promise<T> => await withLockFile(holdsFile, fn)
      return holdsPgLock === undefined ? await local() : await holdsPgLock.run(local)
    }
    this.audit = new AuditLog(join(init.path, STORE_FILES.audit), join(init.path, STORE_FILES.auditHead), {
      ...(init.auditKey === undefined ? {} : { key: init.auditKey }), ...(init.operator === undefined ? {} : { operator: init.operator }),
      ...(auditLock === undefined ? {} : { serialize: async <T>(fn: () => Promise<T>): Promise<T> => await auditLock.run(fn) })
    })
    // the local directory's pack stores are opened by one process: the data-directory lock first
    this.backend = createBackend(init.blocks ?? { kind: 'local' }, init.path, async () => { await this.exclusive() })
    this.enrollments = new Enrollment(join(init.path, STORE_FILES.enrollment))
    this.repairs = new PendingRepairs(join(init.path, STORE_FILES.repairs))
    this.discovery = new Discovery({
      index: this.index, audit: this.audit, blocksFor: async user => await this.blocksFor(user), operator: init.operator ?? processWho().user,
      guardHolds: this.guardHolds,
      ...(init.log === undefined ? {} : { log: init.log }),
      ...(init.discoveryPrivateKey === undefined ? {} : { discoveryPrivateKey: init.discoveryPrivateKey })
    })
  }

  /** One block store per user, opened on first use: a node's writes land only in the users it may write. */
  private async blocksFor (user: string): Promise<Blockstore> {
    assertValidUser(user)
    return await this.backend.blockstore(user)
  }

  /** Takes the data-directory lock (once): StoreInUseError (ending in `hint`) when another process holds it. */
  private async exclusive (hint?: string): Promise<void> {
    this.lock ??= lockStore(join(this.init.path, STORE_FILES.lock), this.init.path, hint)
    try { await this.lock } catch (err) { this.lock = undefined; throw err }
  }

  async start (): Promise<void> {
    const blocksDir = join(this.init.path, STORE_FILES.blocks)
    if (this.init.create === false) {
      if (!(await stat(blocksDir).catch(() => undefined))?.isDirectory()) throw new NoStoreError(`no store at ${this.init.path}`)
    } else {
      await mkdir(blocksDir, { recursive: true })
    }
    if (this.init.libp2p !== undefined) {
      if (this.init.discoveryPrivateKey === undefined) throw new DiscoveryKeyRequiredError('serving replication needs the discovery private key to index snapshots')
      // several processes serve one shared backend; the local directory's pack stores only one
      if (!this.backend.multiWriter) await this.exclusive()
      // and only with a PostgreSQL index: SQLite's file locks do not hold across hosts on a NAS, so a SQLite index has one server
      else if (this.init.coordination === undefined) await this.exclusive('several processes serve one store only with a PostgreSQL index (--index-url or $DCSTORE_INDEX_URL)')
      else this.serving = await lockServing(join(this.init.path, STORE_FILES.serving), join(this.init.path, STORE_FILES.lock), this.init.path)
    }
    await this.backend.start()
    // several processes starting at once on a new database: one creates the schema, the others wait and find it
    if (this.init.coordination !== undefined) {
      const schemaLock = new PgAdvisoryLock(this.init.coordination, INDEX_PG_LOCK_KEY)
      try { await schemaLock.run(async () => { await this.index.start() }, INDEX_START_WAIT_MS) } finally { await schemaLock.stop() }
    } else {
      await this.index.start()
    }
    await this.enrollments.load()
    if (this.init.libp2p !== undefined && this.init.discoveryPrivateKey !== undefined) {
      // written by this process only from here on (it holds the data-directory lock, which a repair needs)
      // (a damaged list does not stop the store: the snapshots it named still lack their blocks, which check reports; a repair recomputes it)
      if (!this.backend.multiWriter) {
        await this.repairs.load().catch((err: unknown) => {
          if (!(err instanceof RepairStateError)) throw err
          this.init.log?.warn({ err }, 'ignoring the list of snapshots waiting for blocks: %s', err.message)
          this.repairs.reset()
        })
      }
      this.server = new ReplicationServer({
        repairs: this.repairs, ...(this.init.onEvent === undefined ? {} : { onEvent: this.init.onEvent }),
        libp2p: this.init.libp2p, enrollment: this.enrollments, index: this.index, blocksFor: async user => await this.blocksFor(user),
        discoveryPrivateKey: this.init.discoveryPrivateKey, maxInboundStreams: this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS,
        timeoutMs: this.init.timeoutMs ?? DEFAULT_TIMEOUT_MS, commitBytes: this.init.commitBytes ?? DEFAULT_COMMIT_BYTES,
        maxTreeEntries: this.init.maxTreeEntries ?? MAX_TREE_ENTRIES, ...(this.init.log === undefined ? {} : { log: this.init.log })
      })
      await this.server.start()
      this.reads = new ReadServer({
        ...(this.init.onEvent === undefined ? {} : { onEvent: this.init.onEvent }),
        libp2p: this.init.libp2p, enrollment: this.enrollments, index: this.index, blocksFor: async user => await this.blocksFor(user),
        maxInboundStreams: this.init.maxInboundStreams ?? DEFAULT_MAX_INBOUND_STREAMS, timeoutMs: this.init.timeoutMs ?? DEFAULT_TIMEOUT_MS,
        ...(this.init.log === undefined ? {} : { log: this.init.log })
      })
      await this.reads.start()
      // the text of each snapshot is indexed as it arrives (and what was held before, once)
      this.discovery.textIndexer.follow()
    }
  }

  async stop (): Promise<void> {
    await this.discovery.textIndexer.stop()
    await this.server?.stop()
    await this.reads?.stop()
    await this.backend.stop()
    await this.index.stop()
    await this.auditLock?.stop()
    await this.holdsPgLock?.stop()
    await this.serving?.release()
    this.serving = undefined
    const lock = this.lock
    this.lock = undefined
    await (await lock?.catch(() => undefined))?.release()
  }

  async enroll (peerId: string, users: string[]): Promise<void> {
    await this.audit.run('enroll', { peer: peerId, users }, async () => { await this.enrollments.enroll(peerId, users) }, () => ({}))
  }

  async unenroll (peerId: string): Promise<string[]> {
    return await this.audit.run('unenroll', { peer: peerId }, async () => await this.enrollments.unenroll(peerId), users => ({ users }))
  }

  enrollment (): EnrollmentTable {
    return this.enrollments.list()
  }

  async retention (before: Date | string | number, apply: boolean): Promise<RetentionResult> {
    // deleting blocks while another process writes them would lose a snapshot still arriving
    if (apply) await this.exclusive()
    // on a shared backend the serving processes hold no data-directory lock: each has its marker
    if (apply && this.backend.multiWriter) await assertNotServed(join(this.init.path, STORE_FILES.serving), this.init.path)
    return await runRetention(this.index, this.audit, async user => await this.blocksFor(user), this.guardHolds, new Date(before).getTime(), apply)
  }

  async check (options: CheckOptions = {}): Promise<CheckReport> {
    // an object backend's blocks are only ever added or retained away: checked through it, beside the serving processes
    if (this.backend.kind !== 'local') return await runBackendCheck(this.index, this.backend, options)
    // the files are read, never written; the lock keeps a serving process from changing them under the check
    await this.exclusive()
    return await runCheck(this.index, this.init.path, options, { pending: (await this.repairs.load()).list() })
  }

  async repair (options: CheckOptions = {}): Promise<RepairReport> {
    if (this.backend.kind !== 'local') {
      throw new RepairUnsupportedError(`check --repair repairs the local block directory; the ${this.backend.kind} backend is served by several processes at once and its damaged blocks are reported, not dropped`)
    }
    await this.exclusive()
    // a damaged list is recomputed whole by the repair
    const pending = await this.repairs.load().catch((err: unknown) => { if (err instanceof RepairStateError) return this.repairs.reset(); throw err })
    // every block read and verified first unless the caller narrows it: nothing unverified is kept as present
    return await runRepair(this.index, this.init.path, this.backend, pending, { readData: true, ...options })
  }

  async verifyAudit (options: { anchor?: AuditHead } = {}): Promise<AuditReport> {
    return await this.audit.verify(options)
  }
}
