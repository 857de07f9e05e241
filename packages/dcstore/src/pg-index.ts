import pg from 'pg'
import type {
  FileRow, HoldQuery, HoldRow, MatterRow, PendingText, SearchQuery, SnapshotQuery, SnapshotRow, TextBody, TextCoverageRow, TextDocRow, TextMatch,
  TextScope, TextStatus, VersionIndex
} from './version-index.js'
import { scopeConditions } from './text-sql.js'
import { holdSql, matterSql, toHold, toMatter, type HoldSql, type MatterSql } from './matter-rows.js'

// The PostgreSQL backend of VersionIndex, for a large installation. Same
// tables as the SQLite backend (docs/formats/personal.md#store-data-directory).

const SCHEMA = `
CREATE TABLE IF NOT EXISTS snapshots (
  cid TEXT PRIMARY KEY, "user" TEXT NOT NULL, node TEXT NOT NULL, time_ms BIGINT NOT NULL,
  parent TEXT, root TEXT NOT NULL, files BIGINT NOT NULL, bytes BIGINT NOT NULL, committed_ms BIGINT NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_user_time ON snapshots ("user", time_ms);
CREATE INDEX IF NOT EXISTS snapshots_user_node_time ON snapshots ("user", node, time_ms);
CREATE TABLE IF NOT EXISTS files (
  snapshot TEXT NOT NULL REFERENCES snapshots (cid), "user" TEXT NOT NULL, node TEXT NOT NULL, path TEXT NOT NULL,
  kind TEXT NOT NULL, size BIGINT NOT NULL, sha256 TEXT NOT NULL, mtime_ms BIGINT NOT NULL, mode INTEGER NOT NULL,
  snapshot_ms BIGINT NOT NULL, PRIMARY KEY (snapshot, path)
);
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_user_path ON files ("user", path);
CREATE TABLE IF NOT EXISTS matters (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, custodians TEXT NOT NULL, from_ms BIGINT, to_ms BIGINT, created_ms BIGINT NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
  id TEXT PRIMARY KEY, matter TEXT NOT NULL REFERENCES matters (id), custodian TEXT NOT NULL, from_ms BIGINT, to_ms BIGINT, glob TEXT,
  placed_ms BIGINT NOT NULL, placed_by TEXT NOT NULL, reason TEXT NOT NULL, released_ms BIGINT, released_by TEXT, release_reason TEXT
);
CREATE INDEX IF NOT EXISTS holds_custodian ON holds (custodian);
CREATE TABLE IF NOT EXISTS text_docs (
  sha256 TEXT PRIMARY KEY, status TEXT NOT NULL, reason TEXT, chars BIGINT NOT NULL, indexed_ms BIGINT NOT NULL, sealed BYTEA, tsv tsvector
);
CREATE INDEX IF NOT EXISTS text_docs_tsv ON text_docs USING GIN (tsv);
`

/** Rows inserted per statement (unnest of column arrays). */
const INSERT_BATCH = 5000

type Sql = Record<string, string | number | null>
const n = (v: unknown): number => Number(v)
const toSnapshot = (r: Sql): SnapshotRow => ({
  cid: String(r.cid),
  user: String(r.user),
  node: String(r.node),
  timeMs: n(r.time_ms),
  parent: r.parent === null ? null : String(r.parent),
  root: String(r.root),
  files: n(r.files),
  bytes: n(r.bytes),
  committedMs: n(r.committed_ms)
})
const toFile = (r: Sql): FileRow => ({ snapshot: String(r.snapshot), user: String(r.user), node: String(r.node), path: String(r.path), kind: r.kind as FileRow['kind'], size: n(r.size), sha256: String(r.sha256), mtimeMs: n(r.mtime_ms), mode: n(r.mode), snapshotMs: n(r.snapshot_ms) })

/** A shell glob as an anchored POSIX regex with SQLite GLOB's meaning: `*` any run (also across '/'), `?` one character, `[...]` a class. */
export function globToRegex (glob: string): string {
  let out = '^'
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i]
    if (c === '*') out += '.*'
    else if (c === '?') out += '.'
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2)
      if (end < 0) { out += '\\['; continue }
      let cls = glob.slice(i + 1, end)
      if (cls.startsWith('^')) cls = '\\^' + cls.slice(1)
      out += '[' + (cls.startsWith('!') ? '^' + cls.slice(1) : cls).replaceAll('\\', '\\\\') + ']'
      i = end
    } else out += c.replace(/[.+^${}()|\\]/g, '\\$&')
  }
  return out + '$'
}

export class PgVersionIndex implements VersionIndex {
  private pool?: pg.Pool

  constructor (private readonly config: pg.PoolConfig) {}

  private get p (): pg.Pool {
    if (this.pool === undefined) throw new Error('index not started')
    return this.pool
  }

  async start (): Promise<void> {
    this.pool = new pg.Pool({ max: 4, ...this.config })
    await this.pool.query(SCHEMA)
  }

  async stop (): Promise<void> {
    await this.pool?.end()
    this.pool = undefined
  }

  async hasSnapshot (cid: string): Promise<boolean> {
    return (await this.p.query('SELECT 1 FROM snapshots WHERE cid = $1', [cid])).rowCount === 1
  }

  async commitSnapshot (s: SnapshotRow, files: FileRow[]): Promise<boolean> {
    const client = await this.p.connect()
    try {
      await client.query('BEGIN')
      const r = await client.query('INSERT INTO snapshots VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (cid) DO NOTHING',
        [s.cid, s.user, s.node, s.timeMs, s.parent, s.root, s.files, s.bytes, s.committedMs])
      if (r.rowCount === 0) { await client.query('ROLLBACK'); return false }
      for (let i = 0; i < files.length; i += INSERT_BATCH) {
        const batch = files.slice(i, i + INSERT_BATCH)
        const col = <K extends keyof FileRow>(k: K): Array<FileRow[K]> => batch.map(f => f[k])
        await client.query('INSERT INTO files SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::bigint[], $7::text[], $8::bigint[], $9::int[], $10::bigint[])',
          [col('snapshot'), col('user'), col('node'), col('path'), col('kind'), col('size'), col('sha256'), col('mtimeMs'), col('mode'), col('snapshotMs')])
      }
      await client.query('COMMIT')
      return true
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  async removeSnapshots (cids: string[]): Promise<number> {
    const client = await this.p.connect()
    try {
      await client.query('BEGIN')
      const gone = (await client.query("SELECT DISTINCT sha256 FROM files WHERE snapshot = ANY($1::text[]) AND kind = 'file'", [cids])).rows.map(r => String(r.sha256))
      await client.query('DELETE FROM files WHERE snapshot = ANY($1::text[])', [cids])
      const r = await client.query('DELETE FROM snapshots WHERE cid = ANY($1::text[])', [cids])
      // the text of a content no remaining file version holds leaves with it
      await client.query('DELETE FROM text_docs d WHERE d.sha256 = ANY($1::text[]) AND NOT EXISTS (SELECT 1 FROM files f WHERE f.sha256 = d.sha256)', [gone])
      await client.query('COMMIT')
      return r.rowCount ?? 0
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  async snapshots (q: SnapshotQuery): Promise<SnapshotRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    const add = (sql: string, v: string | number): void => { args.push(v); where.push(sql.replace('?', `$${args.length}`)) }
    if (q.user !== undefined) add('"user" = ?', q.user)
    if (q.node !== undefined) add('node = ?', q.node)
    if (q.fromMs !== undefined) add('time_ms >= ?', q.fromMs)
    if (q.toMs !== undefined) add('time_ms <= ?', q.toMs)
    const sql = `SELECT * FROM snapshots ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY time_ms, cid COLLATE "C"`
    return (await this.p.query(sql, args)).rows.map(toSnapshot)
  }

  async latestSnapshots (user: string, atMs: number): Promise<SnapshotRow[]> {
    const sql = `SELECT s.* FROM snapshots s JOIN (SELECT node, MAX(time_ms) AS t FROM snapshots WHERE "user" = $1 AND time_ms <= $2 GROUP BY node) m
      ON s.node = m.node AND s.time_ms = m.t WHERE s."user" = $1 ORDER BY s.time_ms, s.cid COLLATE "C"`
    return (await this.p.query(sql, [user, atMs])).rows.map(toSnapshot)
  }

  async files (snapshot: string): Promise<FileRow[]> {
    return (await this.p.query('SELECT * FROM files WHERE snapshot = $1 ORDER BY path COLLATE "C"', [snapshot])).rows.map(toFile)
  }

  async search (q: SearchQuery): Promise<FileRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    const add = (sql: string, v: string | number): void => { args.push(v); where.push(sql.replace('?', `$${args.length}`)) }
    if (q.user !== undefined) add('"user" = ?', q.user)
    if (q.glob !== undefined) add('path ~ ?', globToRegex(q.glob))
    if (q.sha256 !== undefined) add('sha256 = ?', q.sha256.toLowerCase())
    args.push(q.limit ?? 100_000)
    const sql = `SELECT * FROM files ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY snapshot_ms, path COLLATE "C" LIMIT $${args.length}`
    return (await this.p.query(sql, args)).rows.map(toFile)
  }

  async createMatter (m: MatterRow): Promise<boolean> {
    const r = matterSql(m)
    return (await this.p.query('INSERT INTO matters VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (id) DO NOTHING',
      [r.id, r.name, r.custodians, r.from_ms, r.to_ms, r.created_ms, r.created_by])).rowCount === 1
  }

  async getMatter (id: string): Promise<MatterRow | undefined> {
    const rows = (await this.p.query('SELECT * FROM matters WHERE id = $1', [id])).rows as MatterSql[]
    return rows[0] === undefined ? undefined : toMatter(rows[0])
  }

  async matters (): Promise<MatterRow[]> {
    return ((await this.p.query('SELECT * FROM matters ORDER BY id COLLATE "C"')).rows as MatterSql[]).map(toMatter)
  }

  async placeHold (h: HoldRow): Promise<void> {
    const r = holdSql(h)
    await this.p.query('INSERT INTO holds VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)',
      [r.id, r.matter, r.custodian, r.from_ms, r.to_ms, r.glob, r.placed_ms, r.placed_by, r.reason, r.released_ms, r.released_by, r.release_reason])
  }

  async releaseHold (id: string, rel: { releasedMs: number, releasedBy: string, releaseReason: string }): Promise<boolean> {
    return (await this.p.query('UPDATE holds SET released_ms = $1, released_by = $2, release_reason = $3 WHERE id = $4 AND released_ms IS NULL',
      [rel.releasedMs, rel.releasedBy, rel.releaseReason, id])).rowCount === 1
  }

  async holds (q: HoldQuery): Promise<HoldRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    const add = (sql: string, v: string | number): void => { args.push(v); where.push(sql.replace('?', `$${args.length}`)) }
    if (q.matter !== undefined) add('matter = ?', q.matter)
    if (q.custodian !== undefined) add('custodian = ?', q.custodian)
    if (q.active === true) where.push('released_ms IS NULL')
    const sql = `SELECT * FROM holds ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY placed_ms, id COLLATE "C"`
    return ((await this.p.query(sql, args)).rows as HoldSql[]).map(toHold)
  }

  async pendingText (limit: number, after?: { snapshot: string, path: string }): Promise<PendingText[]> {
    // in the primary key's order, so that each batch is an index range scan from the cursor
    const rows = (await this.p.query(`SELECT f.sha256, f."user", f.snapshot, f.path, f.size FROM files f
      WHERE (f.snapshot, f.path) > ($1, $2) AND f.kind = 'file' AND NOT EXISTS (SELECT 1 FROM text_docs d WHERE d.sha256 = f.sha256)
      ORDER BY f.snapshot, f.path LIMIT $3`, [after?.snapshot ?? '', after?.path ?? '', limit])).rows as Sql[]
    return rows.map(r => ({ sha256: String(r.sha256), user: String(r.user), snapshot: String(r.snapshot), path: String(r.path), size: n(r.size) }))
  }

  async putText (doc: TextDocRow, text: TextBody | null): Promise<void> {
    await this.putTexts([{ doc, text }])
  }

  async putTexts (items: Array<{ doc: TextDocRow, text: TextBody | null }>): Promise<void> {
    const client = await this.p.connect()
    try {
      await client.query('BEGIN')
      for (const { doc, text } of items) await this.putOne(client, doc, text)
      await client.query('COMMIT')
    } catch (err) {
      await client.query('ROLLBACK').catch(() => {})
      throw err
    } finally {
      client.release()
    }
  }

  private async putOne (client: pg.PoolClient, doc: TextDocRow, text: TextBody | null): Promise<void> {
    const sealed = text === null ? null : Buffer.from(text.sealed)
    const put = async (status: string, reason: string | null, body: string | null): Promise<void> => {
      await client.query('SAVEPOINT put_text')
      await client.query(`INSERT INTO text_docs VALUES ($1, $2, $3, $4, $5, $6, to_tsvector('simple', coalesce($7, '')))
        ON CONFLICT (sha256) DO UPDATE SET status = $2, reason = $3, chars = $4, indexed_ms = $5, sealed = $6, tsv = to_tsvector('simple', coalesce($7, ''))`,
      [doc.sha256, status, reason, doc.chars, doc.indexedMs, sealed, body]).catch(async (err: unknown) => { await client.query('ROLLBACK TO SAVEPOINT put_text'); throw err })
      await client.query('RELEASE SAVEPOINT put_text')
    }
    let body = text?.blinded ?? null
    for (;;) {
      const whole = body === (text?.blinded ?? null)
      try { await put(whole ? doc.status : 'truncated', whole ? doc.reason : `only the first ${body!.split(' ').length} words indexed (PostgreSQL's tsvector limit)`, body); return } catch (err) {
        // 54000: a tsvector over 1 MB; index fewer of the words, and say so
        if ((err as { code?: string }).code !== '54000' || body === null || body.length < 1000) throw err
        body = body.slice(0, body.lastIndexOf(' ', Math.floor(body.length / 2)))
      }
    }
  }

  async textCounts (): Promise<{ contents: number, byStatus: Partial<Record<TextStatus, number>> }> {
    const contents = n((await this.p.query("SELECT COUNT(DISTINCT sha256) AS n FROM files WHERE kind = 'file'")).rows[0].n)
    const rows = (await this.p.query('SELECT status, COUNT(*) AS n FROM text_docs GROUP BY status')).rows as Sql[]
    return { contents, byStatus: Object.fromEntries(rows.map(r => [String(r.status), n(r.n)])) }
  }

  private scoped (scope: TextScope, first: Array<string | number | string[]>): { where: string, args: Array<string | number | string[]> } {
    const { where, args } = scopeConditions(scope, 'pg')
    let i = first.length
    return { where: where.map(w => w.replace(/\?/g, () => `$${++i}`)).join(' AND '), args: [...first, ...args] }
  }

  async searchText (phrases: string[], scope: TextScope, limit: number): Promise<TextMatch[]> {
    const query = phrases.map((_p, i) => `phraseto_tsquery('simple', $${i + 2})`).join(' && ')
    const { where, args } = this.scoped(scope, [scope.snapshots, ...phrases])
    args.push(limit)
    const sql = `WITH q AS (SELECT ${query} AS q),
      versions AS (SELECT DISTINCT ON (f."user", f.node, f.path, f.sha256) f."user", f.node, f.path, f.sha256, f.size, f.mtime_ms, f.snapshot, f.snapshot_ms
        FROM files f JOIN text_docs d ON d.sha256 = f.sha256, q
        WHERE d.tsv @@ q.q AND f.snapshot = ANY($1::text[]) AND ${where}
        ORDER BY f."user", f.node, f.path, f.sha256, f.snapshot_ms),
      page AS (SELECT * FROM versions ORDER BY snapshot_ms, path COLLATE "C", "user" COLLATE "C" LIMIT $${args.length})
      SELECT p.*, d.sealed FROM page p JOIN text_docs d ON d.sha256 = p.sha256 ORDER BY p.snapshot_ms, p.path COLLATE "C", p."user" COLLATE "C"`
    return ((await this.p.query(sql, args)).rows as Sql[]).map(r => ({
      user: String(r.user), node: String(r.node), path: String(r.path), sha256: String(r.sha256), size: n(r.size), mtimeMs: n(r.mtime_ms),
      snapshot: String(r.snapshot), snapshotMs: n(r.snapshot_ms), sealed: r.sealed as unknown as Buffer
    }))
  }

  async textCoverageCounts (scope: TextScope): Promise<Partial<Record<TextStatus | 'pending', number>>> {
    const { where, args } = this.scoped(scope, [scope.snapshots])
    const sql = `SELECT coalesce(d.status, 'pending') AS status, COUNT(*) AS n FROM (SELECT DISTINCT f."user", f.node, f.path, f.sha256 FROM files f
      WHERE f.snapshot = ANY($1::text[]) AND ${where}) v LEFT JOIN text_docs d ON d.sha256 = v.sha256 GROUP BY 1`
    return Object.fromEntries(((await this.p.query(sql, args)).rows as Sql[]).map(r => [String(r.status), n(r.n)]))
  }

  async textCoverage (scope: TextScope, options: { notIndexedOnly?: boolean, limit?: number } = {}): Promise<TextCoverageRow[]> {
    const { where, args } = this.scoped(scope, [scope.snapshots])
    args.push(options.limit ?? Number.MAX_SAFE_INTEGER)
    const sql = `SELECT * FROM (SELECT DISTINCT ON (f."user", f.node, f.path, f.sha256) f."user", f.node, f.path, f.sha256, f.size, f.snapshot_ms, d.status, d.reason
      FROM files f LEFT JOIN text_docs d ON d.sha256 = f.sha256 WHERE f.snapshot = ANY($1::text[]) AND ${where}${options.notIndexedOnly === true ? " AND (d.status IS NULL OR d.status <> 'indexed')" : ''}
      ORDER BY f."user", f.node, f.path, f.sha256, f.snapshot_ms) v ORDER BY snapshot_ms, path COLLATE "C", "user" COLLATE "C" LIMIT $${args.length}`
    return ((await this.p.query(sql, args)).rows as Sql[]).map(r => ({
      user: String(r.user), node: String(r.node), path: String(r.path), sha256: String(r.sha256), size: n(r.size), snapshotMs: n(r.snapshot_ms),
      status: r.status === null ? null : String(r.status) as TextStatus, reason: r.reason === null ? null : String(r.reason)
    }))
  }
}
