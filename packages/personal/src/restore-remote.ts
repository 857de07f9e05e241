import type { Blockstore } from '@cachecloud/blockstore'
import { restoreTree, SnapshotNotFoundError, UserKeyMismatchError, verifyRecord, type RestoreResult, type UserKeys } from '@cachecloud/personal-format'
import type { RestoreOptions, SnapshotInfo } from './index.js'
import { opensWith } from './merge-remotes.js'
import { fetchSnapshot, type RemoteSnapshot, type StoreReader } from './store-reader.js'

/**
 * Restores from the last snapshot of any of the user's nodes at the store at
 * or before `at`: its missing blocks are fetched first (a new machine holds
 * none), then it is restored like a local one. With the user's key pair
 * (`signingPublicKey`) only snapshots signed by the user's machines count.
 */
export async function restoreFromStore (
  reader: StoreReader,
  blockstore: Blockstore,
  keys: UserKeys,
  user: string,
  path: string,
  options: RestoreOptions & { to: string, signingPublicKey?: Uint8Array }
): Promise<RestoreResult & { snapshot: SnapshotInfo }> {
  const at = options.at === undefined ? undefined : new Date(options.at).getTime()
  // with the user's key pair, only snapshots the user's machines signed (a forged one is passed over)
  const verified = (s: RemoteSnapshot): boolean => options.signingPublicKey === undefined || verifyRecord(s.record, options.signingPublicKey)
  const heads = (await reader.heads(user, at)).filter(verified).sort((a, b) => Date.parse(a.record.time) - Date.parse(b.record.time))
  const latest = heads.at(-1)
  if (latest === undefined) throw new SnapshotNotFoundError(`the store has no snapshot of ${user} at or before ${at === undefined ? 'now' : new Date(at).toISOString()}`)
  if (!await opensWith(reader, blockstore, keys, latest)) {
    throw new UserKeyMismatchError(`cannot open ${user}'s latest snapshot at the store (${latest.cid.toString()}, from ${latest.record.node}): it is sealed with a user key this node does not have (this node has no key pair of the user, or another one); copy the user's key file to this machine, set it as personalization[].keyFile for ${user}, restart the daemon and restore again`)
  }
  await fetchSnapshot(reader, blockstore, latest)
  const r = latest.record
  const result = await restoreTree(blockstore, keys, r.root, path, options.to)
  return {
    ...result,
    snapshot: { cid: latest.cid, time: r.time, root: r.root, parent: r.parent, files: r.files, bytes: r.bytes, newBytes: 0, replicated: true }
  }
}
