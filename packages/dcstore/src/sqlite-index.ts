import Database from 'better-sqlite3'
import type {
  FileRow, HoldQuery, HoldRow, MatterRow, PendingText, SearchQuery, SnapshotQuery, SnapshotRow, TextBody, TextCoverageRow, TextDocRow, TextMatch,
  TextScope, TextStatus, VersionIndex
} from './version-index.js'
import { scopeConditions } from './text-sql.js'
import { holdSql, matterSql, toHold, toMatter, type HoldSql, type MatterSql } from './matter-rows.js'

const SCHEMA = `
PRAGMA journal_mode = WAL;
PRAGMA synchronous = FULL;
CREATE TABLE IF NOT EXISTS snapshots (
  cid TEXT PRIMARY KEY, user TEXT NOT NULL, node TEXT NOT NULL, time_ms INTEGER NOT NULL,
  parent TEXT, root TEXT NOT NULL, files INTEGER NOT NULL, bytes INTEGER NOT NULL, committed_ms INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS snapshots_user_time ON snapshots (user, time_ms);
CREATE INDEX IF NOT EXISTS snapshots_user_node_time ON snapshots (user, node, time_ms);
CREATE TABLE IF NOT EXISTS files (
  snapshot TEXT NOT NULL REFERENCES snapshots (cid), user TEXT NOT NULL, node TEXT NOT NULL, path TEXT NOT NULL,
  kind TEXT NOT NULL, size INTEGER NOT NULL, sha256 TEXT NOT NULL, mtime_ms INTEGER NOT NULL, mode INTEGER NOT NULL,
  snapshot_ms INTEGER NOT NULL, PRIMARY KEY (snapshot, path)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS files_sha256 ON files (sha256);
CREATE INDEX IF NOT EXISTS files_user_path ON files (user, path);
CREATE TABLE IF NOT EXISTS matters (
  id TEXT PRIMARY KEY, name TEXT NOT NULL, custodians TEXT NOT NULL, from_ms INTEGER, to_ms INTEGER, created_ms INTEGER NOT NULL, created_by TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS holds (
  id TEXT PRIMARY KEY, matter TEXT NOT NULL REFERENCES matters (id), custodian TEXT NOT NULL, from_ms INTEGER, to_ms INTEGER, glob TEXT,
  placed_ms INTEGER NOT NULL, placed_by TEXT NOT NULL, reason TEXT NOT NULL, released_ms INTEGER, released_by TEXT, release_reason TEXT
);
CREATE INDEX IF NOT EXISTS holds_custodian ON holds (custodian);
CREATE TABLE IF NOT EXISTS text_docs (
  id INTEGER PRIMARY KEY, sha256 TEXT NOT NULL UNIQUE, status TEXT NOT NULL, reason TEXT, chars INTEGER NOT NULL, indexed_ms INTEGER NOT NULL, sealed BLOB
);
CREATE VIRTUAL TABLE IF NOT EXISTS text_fts USING fts5 (body, tokenize = 'unicode61');
`

interface SnapshotSql {
  cid: string,
  user: string,
  node: string,
  time_ms: number,
  parent: string | null,
  root: string,
  files: number,
  bytes: number,
  committed_ms: number
}
interface FileSql { snapshot: string, user: string, node: string, path: string, kind: 'file' | 'symlink', size: number, sha256: string, mtime_ms: number, mode: number, snapshot_ms: number }

const toSnapshot = (r: SnapshotSql): SnapshotRow => ({
  cid: r.cid,
  user: r.user,
  node: r.node,
  timeMs: r.time_ms,
  parent: r.parent,
  root: r.root,
  files: r.files,
  bytes: r.bytes,
  committedMs: r.committed_ms
})
const toFile = (r: FileSql): FileRow => ({
  snapshot: r.snapshot,
  user: r.user,
  node: r.node,
  path: r.path,
  kind: r.kind,
  size: r.size,
  sha256: r.sha256,
  mtimeMs: r.mtime_ms,
  mode: r.mode,
  snapshotMs: r.snapshot_ms
})

/** The default index backend: one SQLite file (better-sqlite3, WAL, synchronous=FULL). */
export class SqliteVersionIndex implements VersionIndex {
  private db?: Database.Database

  constructor (private readonly path: string) {}

  private get d (): Database.Database {
    if (this.db === undefined) throw new Error('index not started')
    return this.db
  }

  async start (): Promise<void> {
    this.db = new Database(this.path)
    this.db.exec(SCHEMA)
    this.db.pragma('foreign_keys = ON') // a hold names an existing matter
  }

  async stop (): Promise<void> {
    this.statements.clear()
    this.db?.close()
    this.db = undefined
  }

  async hasSnapshot (cid: string): Promise<boolean> {
    return this.d.prepare('SELECT 1 FROM snapshots WHERE cid = ?').get(cid) !== undefined
  }

  async commitSnapshot (s: SnapshotRow, files: FileRow[]): Promise<boolean> {
    const insertSnapshot = this.d.prepare('INSERT OR IGNORE INTO snapshots VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)')
    const insertFile = this.d.prepare('INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
    return this.d.transaction((): boolean => {
      const r = insertSnapshot.run(s.cid, s.user, s.node, s.timeMs, s.parent, s.root, s.files, s.bytes, s.committedMs)
      if (r.changes === 0) return false
      for (const f of files) insertFile.run(f.snapshot, f.user, f.node, f.path, f.kind, f.size, f.sha256, f.mtimeMs, f.mode, f.snapshotMs)
      return true
    }).immediate()
  }

  async removeSnapshots (cids: string[]): Promise<number> {
    const files = this.d.prepare('DELETE FROM files WHERE snapshot = ?')
    const snaps = this.d.prepare('DELETE FROM snapshots WHERE cid = ?')
    const contents = this.d.prepare("SELECT DISTINCT sha256 FROM files WHERE snapshot = ? AND kind = 'file'")
    const stillHeld = this.d.prepare('SELECT 1 FROM files WHERE sha256 = ? LIMIT 1')
    return this.d.transaction((): number => {
      let removed = 0
      const gone = new Set<string>()
      for (const cid of cids) {
        for (const r of contents.all(cid) as Array<{ sha256: string }>) gone.add(r.sha256)
        files.run(cid); removed += snaps.run(cid).changes
      }
      // the text of a content no remaining file version holds leaves with it
      for (const sha256 of gone) if (stillHeld.get(sha256) === undefined) this.dropText(sha256)
      return removed
    }).immediate()
  }

  async snapshots (q: SnapshotQuery): Promise<SnapshotRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    if (q.user !== undefined) { where.push('user = ?'); args.push(q.user) }
    if (q.node !== undefined) { where.push('node = ?'); args.push(q.node) }
    if (q.fromMs !== undefined) { where.push('time_ms >= ?'); args.push(q.fromMs) }
    if (q.toMs !== undefined) { where.push('time_ms <= ?'); args.push(q.toMs) }
    const sql = `SELECT * FROM snapshots ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY time_ms, cid`
    return (this.d.prepare(sql).all(...args) as SnapshotSql[]).map(toSnapshot)
  }

  async latestSnapshots (user: string, atMs: number): Promise<SnapshotRow[]> {
    const sql = `SELECT s.* FROM snapshots s JOIN (SELECT node, MAX(time_ms) AS t FROM snapshots WHERE user = ? AND time_ms <= ? GROUP BY node) m
      ON s.node = m.node AND s.time_ms = m.t WHERE s.user = ? ORDER BY s.time_ms, s.cid`
    return (this.d.prepare(sql).all(user, atMs, user) as SnapshotSql[]).map(toSnapshot)
  }

  async files (snapshot: string): Promise<FileRow[]> {
    return (this.d.prepare('SELECT * FROM files WHERE snapshot = ? ORDER BY path').all(snapshot) as FileSql[]).map(toFile)
  }

  async search (q: SearchQuery): Promise<FileRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    if (q.user !== undefined) { where.push('user = ?'); args.push(q.user) }
    if (q.glob !== undefined) { where.push('path GLOB ?'); args.push(q.glob) }
    if (q.sha256 !== undefined) { where.push('sha256 = ?'); args.push(q.sha256.toLowerCase()) }
    const sql = `SELECT * FROM files ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY snapshot_ms, path LIMIT ?`
    return (this.d.prepare(sql).all(...args, q.limit ?? 100_000) as FileSql[]).map(toFile)
  }

  async createMatter (m: MatterRow): Promise<boolean> {
    const r = matterSql(m)
    return this.d.prepare('INSERT OR IGNORE INTO matters VALUES (?, ?, ?, ?, ?, ?, ?)').run(r.id, r.name, r.custodians, r.from_ms, r.to_ms, r.created_ms, r.created_by).changes === 1
  }

  async getMatter (id: string): Promise<MatterRow | undefined> {
    const r = this.d.prepare('SELECT * FROM matters WHERE id = ?').get(id) as MatterSql | undefined
    return r === undefined ? undefined : toMatter(r)
  }

  async matters (): Promise<MatterRow[]> {
    return (this.d.prepare('SELECT * FROM matters ORDER BY id').all() as MatterSql[]).map(toMatter)
  }

  async placeHold (h: HoldRow): Promise<void> {
    const r = holdSql(h)
    this.d.prepare('INSERT INTO holds VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)')
      .run(r.id, r.matter, r.custodian, r.from_ms, r.to_ms, r.glob, r.placed_ms, r.placed_by, r.reason, r.released_ms, r.released_by, r.release_reason)
  }

  async releaseHold (id: string, rel: { releasedMs: number, releasedBy: string, releaseReason: string }): Promise<boolean> {
    return this.d.prepare('UPDATE holds SET released_ms = ?, released_by = ?, release_reason = ? WHERE id = ? AND released_ms IS NULL')
      .run(rel.releasedMs, rel.releasedBy, rel.releaseReason, id).changes === 1
  }

  async holds (q: HoldQuery): Promise<HoldRow[]> {
    const where: string[] = []; const args: Array<string | number> = []
    if (q.matter !== undefined) { where.push('matter = ?'); args.push(q.matter) }
    if (q.custodian !== undefined) { where.push('custodian = ?'); args.push(q.custodian) }
    if (q.active === true) where.push('released_ms IS NULL')
    const sql = `SELECT * FROM holds ${where.length > 0 ? 'WHERE ' + where.join(' AND ') : ''} ORDER BY placed_ms, id`
    return (this.d.prepare(sql).all(...args) as HoldSql[]).map(toHold)
  }

  private statements = new Map<string, Database.Statement>()
  /** A prepared statement, prepared once per connection. */
  private st (sql: string): Database.Statement {
    let st = this.statements.get(sql)
    if (st === undefined) { st = this.d.prepare(sql); this.statements.set(sql, st) }
    return st
  }

  private dropText (sha256: string): void {
    const old = this.st('SELECT id FROM text_docs WHERE sha256 = ?').get(sha256) as { id: number } | undefined
    if (old === undefined) return
    this.st('DELETE FROM text_fts WHERE rowid = ?').run(old.id)
    this.st('DELETE FROM text_docs WHERE id = ?').run(old.id)
  }

  async pendingText (limit: number, after?: { snapshot: string, path: string }): Promise<PendingText[]> {
    return this.d.prepare(`SELECT f.sha256, f.user, f.snapshot, f.path, f.size FROM files f
      WHERE (f.snapshot > ? OR (f.snapshot = ? AND f.path > ?)) AND f.kind = 'file' AND NOT EXISTS (SELECT 1 FROM text_docs d WHERE d.sha256 = f.sha256)
      ORDER BY f.snapshot, f.path LIMIT ?`).all(after?.snapshot ?? '', after?.snapshot ?? '', after?.path ?? '', limit) as PendingText[]
  }

  async putText (doc: TextDocRow, text: TextBody | null): Promise<void> {
    await this.putTexts([{ doc, text }])
  }

  async putTexts (items: Array<{ doc: TextDocRow, text: TextBody | null }>): Promise<void> {
    const insert = this.st('INSERT INTO text_docs (sha256, status, reason, chars, indexed_ms, sealed) VALUES (?, ?, ?, ?, ?, ?)')
    const insertFts = this.st('INSERT INTO text_fts (rowid, body) VALUES (?, ?)')
    this.d.transaction(() => {
      for (const { doc, text } of items) {
        this.dropText(doc.sha256)
        const r = insert.run(doc.sha256, doc.status, doc.reason, doc.chars, doc.indexedMs, text === null ? null : Buffer.from(text.sealed))
        if (text !== null) insertFts.run(r.lastInsertRowid, text.blinded)
      }
    }).immediate()
  }

  async textCounts (): Promise<{ contents: number, byStatus: Partial<Record<TextStatus, number>> }> {
    const contents = (this.d.prepare("SELECT COUNT(DISTINCT sha256) AS n FROM files WHERE kind = 'file'").get() as { n: number }).n
    const rows = this.d.prepare('SELECT status, COUNT(*) AS n FROM text_docs GROUP BY status').all() as Array<{ status: TextStatus, n: number }>
    return { contents, byStatus: Object.fromEntries(rows.map(r => [r.status, r.n])) }
  }

  async searchText (phrases: string[], scope: TextScope, limit: number): Promise<TextMatch[]> {
    const { where, args } = scopeConditions(scope, 'sqlite')
    const match = phrases.map(p => `"${p.replaceAll('"', '""')}"`).join(' AND ')
    // the sealed text (for snippets) is read for the page of results only
    const sql = `WITH hits AS MATERIALIZED (SELECT rowid AS id FROM text_fts WHERE text_fts MATCH ?),
      page AS (SELECT f.user, f.node, f.path, f.sha256, f.size, f.mtime_ms, f.snapshot, MIN(f.snapshot_ms) AS snapshot_ms, d.id AS doc
        FROM hits h JOIN text_docs d ON d.id = h.id JOIN files f ON f.sha256 = d.sha256
        WHERE f.snapshot IN (SELECT value FROM json_each(?)) AND ${where.join(' AND ')}
        GROUP BY f.user, f.node, f.path, f.sha256 ORDER BY snapshot_ms, f.path, f.user LIMIT ?)
      SELECT p.*, d.sealed FROM page p JOIN text_docs d ON d.id = p.doc ORDER BY p.snapshot_ms, p.path, p.user`
    const rows = this.d.prepare(sql).all(match, JSON.stringify(scope.snapshots), ...args, limit) as Array<{
      user: string,
      node: string,
      path: string,
      sha256: string,
      size: number,
      mtime_ms: number,
      snapshot: string,
      snapshot_ms: number,
      sealed: Buffer
    }>
    return rows.map(r => ({
      user: r.user,
      node: r.node,
      path: r.path,
      sha256: r.sha256,
      size: r.size,
      mtimeMs: r.mtime_ms,
      snapshot: r.snapshot,
      snapshotMs: r.snapshot_ms,
      sealed: r.sealed
    }))
  }

  async textCoverageCounts (scope: TextScope): Promise<Partial<Record<TextStatus | 'pending', number>>> {
    const { where, args } = scopeConditions(scope, 'sqlite')
    const sql = `SELECT coalesce(d.status, 'pending') AS status, COUNT(*) AS n FROM (SELECT DISTINCT f.user, f.node, f.path, f.sha256 FROM files f
      WHERE f.snapshot IN (SELECT value FROM json_each(?)) AND ${where.join(' AND ')}) v LEFT JOIN text_docs d ON d.sha256 = v.sha256 GROUP BY 1`
    const rows = this.d.prepare(sql).all(JSON.stringify(scope.snapshots), ...args) as Array<{ status: TextStatus | 'pending', n: number }>
    return Object.fromEntries(rows.map(r => [r.status, r.n]))
  }

  async textCoverage (scope: TextScope, options: { notIndexedOnly?: boolean, limit?: number } = {}): Promise<TextCoverageRow[]> {
    const { where, args } = scopeConditions(scope, 'sqlite')
    const sql = `SELECT f.user, f.node, f.path, f.sha256, f.size, MIN(f.snapshot_ms) AS snapshot_ms, d.status, d.reason
      FROM files f LEFT JOIN text_docs d ON d.sha256 = f.sha256
      WHERE f.snapshot IN (SELECT value FROM json_each(?)) AND ${where.join(' AND ')}${options.notIndexedOnly === true ? " AND (d.status IS NULL OR d.status <> 'indexed')" : ''}
      GROUP BY f.user, f.node, f.path, f.sha256 ORDER BY snapshot_ms, f.path, f.user LIMIT ?`
    const rows = this.d.prepare(sql).all(JSON.stringify(scope.snapshots), ...args, options.limit ?? -1) as Array<{
      user: string,
      node: string,
      path: string,
      sha256: string,
      size: number,
      snapshot_ms: number,
      status: TextStatus | null,
      reason: string | null
    }>
    return rows.map(r => ({
      user: r.user,
      node: r.node,
      path: r.path,
      sha256: r.sha256,
      size: r.size,
      snapshotMs: r.snapshot_ms,
      status: r.status,
      reason: r.reason
    }))
  }
}
