import type { Blockstore } from '@cachecloud/blockstore'
import { bytesMatchCid, type CID } from '@cachecloud/core'
import { decodeRecord, findEntry, MAX_HISTORY_SNAPSHOTS, PathNotFoundError, ProtocolError, SEALED_PUT, type BlockSource, type UserKeys } from '@cachecloud/personal-format'
import type { MergeAction } from './merge.js'
import { versionKey } from './merge.js'
import type { RemoteSnapshot, StoreReader } from './store-reader.js'

/** Blocks from the local store, else from the store (checked against their CID, then kept locally). */
function throughStore (reader: StoreReader, blockstore: Blockstore): BlockSource {
  return {
    get: async (cid: CID): Promise<Uint8Array> => {
      if (await blockstore.has(cid)) return await blockstore.get(cid)
      const [[, bytes]] = await reader.get([cid])
      if (!bytesMatchCid(cid, bytes)) throw new ProtocolError(`block ${cid.toString()} does not match its CID`)
      await blockstore.put(cid, bytes, SEALED_PUT)
      return bytes
    }
  }
}

/**
 * Turns into plain updates the conflicts where the remote node had our local
 * version in one of its snapshots since the one last merged: it took our
 * edit and then changed the file again, so its version follows ours
 * (sequential edits, not concurrent ones). Walks the remote's parent chain,
 * at most MAX_HISTORY_SNAPSHOTS back, reading only the directories on the
 * conflicting paths.
 */
export async function resolveSequential (
  reader: StoreReader,
  blockstore: Blockstore,
  keys: UserKeys,
  remote: RemoteSnapshot,
  mergedCid: string | undefined,
  actions: MergeAction[]
): Promise<MergeAction[]> {
  const conflicts = actions.filter(a => a.type === 'conflict')
  if (conflicts.length === 0) return actions
  const source = throughStore(reader, blockstore)
  const sequential = new Set<string>()
  let parent = remote.record.parent
  for (let n = 0; parent !== null && parent.toString() !== mergedCid && n < MAX_HISTORY_SNAPSHOTS; n++) {
    const record = decodeRecord(await source.get(parent))
    if (record.node !== remote.record.node) break
    for (const a of conflicts) {
      if (sequential.has(a.path)) continue
      const entry = await findEntry(
        source,
        keys,
        record.root,
        a.path
      ).catch((err: Error) => { if (err instanceof PathNotFoundError) return undefined; throw err })
      if (entry !== undefined && entry.kind !== 'dir' && versionKey(entry) === versionKey(a.local)) sequential.add(a.path)
    }
    parent = record.parent
  }
  return actions.map(a => a.type === 'conflict' && sequential.has(a.path) ? { type: 'write', path: a.path, entry: a.remote, local: a.local } : a)
}

/**
 * Drops the conflicts where the remote version is one this node had before
 * (in one of its own last MAX_HISTORY_SNAPSHOTS snapshots, newest first): the
 * remote node is merely behind (e.g. merged for the first time), and the
 * local version follows its own. Local blocks only.
 */
export async function dropStale (blocks: BlockSource, keys: UserKeys, localRoots: CID[], actions: MergeAction[]): Promise<MergeAction[]> {
  const conflicts = actions.filter(a => a.type === 'conflict')
  if (conflicts.length === 0) return actions
  const stale = new Set<string>()
  for (const root of localRoots.slice(0, MAX_HISTORY_SNAPSHOTS)) {
    for (const a of conflicts) {
      if (stale.has(a.path)) continue
      const entry = await findEntry(blocks, keys, root, a.path).catch((err: Error) => { if (err instanceof PathNotFoundError) return undefined; throw err })
      if (entry !== undefined && entry.kind !== 'dir' && versionKey(entry) === versionKey(a.remote)) stale.add(a.path)
    }
  }
  return actions.filter(a => !(a.type === 'conflict' && stale.has(a.path)))
}
