import { setTimeout as sleep } from 'node:timers/promises'
import pg, { type PoolConfig } from 'pg'
import { LockTimeoutError } from './errors.js'

const LOCK_WAIT_MS = 10_000
const LOCK_POLL_MS = 5

/**
 * A lock across every process (on every host) that uses one PostgreSQL
 * database: a session advisory lock, held on one connection for the length
 * of `fn`. The store processes behind one index take it around each audit
 * append, so the chain stays one chain however the shared data directory's
 * filesystem honours lock files. One connection, opened on first use.
 */
export class PgAdvisoryLock {
  private readonly pool: pg.Pool

  /** `what`: the lock's name in a timeout's message. */
  constructor (config: PoolConfig, private readonly key: number, private readonly what = 'the audit log\'s lock') {
    this.pool = new pg.Pool({ ...config, max: 1 })
    this.pool.on('error', () => {}) // an idle connection lost: the next use reconnects
  }

  async run<T> (fn: () => Promise<T>, waitMs = LOCK_WAIT_MS): Promise<T> {
    const client = await this.pool.connect()
    try {
      const deadline = Date.now() + waitMs
      while (!(await client.query<{ got: boolean }>('SELECT pg_try_advisory_lock($1) AS got', [this.key])).rows[0].got) {
        if (Date.now() > deadline) throw new LockTimeoutError(`${this.what} in PostgreSQL is held by another store process for more than ${waitMs / 1000} s`)
        await sleep(LOCK_POLL_MS)
      }
      try { return await fn() } finally { await client.query('SELECT pg_advisory_unlock($1)', [this.key]) }
    } finally { client.release() }
  }

  async stop (): Promise<void> { await this.pool.end() }
}
