import { createHash } from 'node:crypto'
import type { CID } from '@cachecloud/core'
import { walkTree, type BlockSource, type SnapshotRecord, type UserKeys } from '@cachecloud/personal-format'
import type { FileRow, SnapshotRow } from './version-index.js'

/**
 * The index rows of a complete snapshot: its tree, opened with the user key,
 * each block once, bounded by the files its record states and MAX_TREE_ENTRIES.
 */
export async function indexRows (
  blocks: BlockSource,
  keys: UserKeys,
  cid: CID,
  record: SnapshotRecord,
  maxEntries?: number
): Promise<{ snapshot: SnapshotRow, files: FileRow[] }> {
  const timeMs = Date.parse(record.time)
  const snapshot: SnapshotRow = {
    cid: cid.toString(), user: record.user, node: record.node, timeMs, parent: record.parent?.toString() ?? null,
    root: record.root.toString(), files: record.files, bytes: record.bytes, committedMs: Date.now()
  }
  const files: FileRow[] = []
  for await (const { path, entry } of walkTree(blocks, keys, record.root, { maxFiles: record.files, ...(maxEntries === undefined ? {} : { maxEntries }) })) {
    const base = { snapshot: snapshot.cid, user: record.user, node: record.node, path, mtimeMs: entry.mtimeMs, mode: entry.mode, snapshotMs: timeMs }
    if (entry.kind === 'file') files.push({ ...base, kind: 'file', size: entry.size, sha256: Buffer.from(entry.sha256).toString('hex') })
    else if (entry.kind === 'symlink') files.push({ ...base, kind: 'symlink', size: entry.target.length, sha256: createHash('sha256').update(entry.target).digest('hex') })
  }
  return { snapshot, files }
}
