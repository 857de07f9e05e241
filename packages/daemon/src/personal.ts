import { join } from 'node:path'
import type { Blockstore } from '@cachecloud/blockstore'
import type { PersonalApi, PersonalRestoreRequest, PersonalRestoreResultInfo, PersonalSnapshotInfo, PersonalSnapshotResultInfo, PersonalStatusInfo } from '@cachecloud/control'
import type { CachePointLibp2p } from '@cachecloud/network'
import { createPersonalFolder, type PersonalFolder, type SnapshotInfo } from '@cachecloud/personal'
import type { Logger } from 'pino'
import { PERSONAL_DIR } from './constants.js'
import { PersonalUserNotFoundError } from './errors.js'
import type { PersonalConfig } from './personal-config.js'

export interface PersonalFoldersInit {
  config: PersonalConfig & { dataDir: string }
  blockstore: Blockstore
  libp2p: CachePointLibp2p
  logger: Logger
  /** Called on progress (snapshot, replication): status may have changed. */
  onChange: () => void
}

function snapshotInfo (s: SnapshotInfo): PersonalSnapshotInfo {
  return {
    cid: s.cid.toString(),
    time: s.time,
    root: s.root.toString(),
    parent: s.parent?.toString() ?? null,
    files: s.files,
    bytes: s.bytes,
    newBytes: s.newBytes,
    replicated: s.replicated
  }
}

/** The daemon's `personal` subsystem: one PersonalFolder per configured user, sharing the node's block store and libp2p host. */
export class PersonalFolders implements PersonalApi {
  private readonly folders = new Map<string, PersonalFolder>()
  /** Users whose folder merges their other machines' changes (a key file is configured). */
  private readonly merging = new Set<string>()
  /** Set while block-store GC runs: snapshots wait for it. */
  private collecting: Promise<unknown> | undefined
  private readonly startErrors = new Map<string, string>()
  private readonly logger: Logger

  constructor (init: PersonalFoldersInit) {
    const { config, blockstore, libp2p, logger, onChange } = init
    this.logger = logger
    const store = config.personalStore
    for (const { user, path, keyFile } of config.personalization ?? []) {
      if (keyFile !== undefined) this.merging.add(user)
      this.folders.set(user, createPersonalFolder({
        user,
        folder: path,
        stateDir: join(config.dataDir, PERSONAL_DIR, user),
        blockstore,
        node: libp2p.peerId.toString(),
        // parsePersonalConfig refuses personalization without personalStore
        discoveryKey: store?.discoveryKey ?? '',
        ...(keyFile === undefined ? {} : { userKeyFile: keyFile }),
        libp2p,
        ...(store?.address === undefined ? {} : { store: store.address }),
        ...(store?.fallbackAddresses === undefined ? {} : { fallbackStores: store.fallbackAddresses }),
        log: logger.child({ user }),
        onProgress: () => { onChange() }
      }))
    }
  }

  /** A folder that cannot be watched (e.g. not mounted) is reported in its status; it does not stop the node. */
  async start (): Promise<void> {
    for (const [user, folder] of this.folders) {
      try {
        await folder.start()
        this.startErrors.delete(user)
      } catch (err) {
        this.startErrors.set(user, `start: ${(err as Error).message}`)
        this.logger.warn({ err, user }, 'personal folder not started')
      }
    }
  }

  async stop (): Promise<void> {
    await Promise.all([...this.folders.values()].map(async s => s.stop()))
  }

  /**
   * Runs block-store GC with the folders stopped, so no snapshot writes blocks
   * that its log does not name yet; `collect` gets the CIDs every local
   * snapshot needs. The folders start again after (a rescan of unchanged files is cheap).
   */
  async collect<T> (collect: (live: Set<string>) => Promise<T>): Promise<T> {
    while (this.collecting !== undefined) await this.collecting.catch(() => {})
    const run = (async () => {
      await this.stop()
      try {
        return await collect(await this.liveBlocks())
      } finally {
        await this.start()
      }
    })()
    this.collecting = run
    try { return await run } finally { this.collecting = undefined }
  }

  private async liveBlocks (): Promise<Set<string>> {
    const live = new Set<string>()
    for (const folder of this.folders.values()) for (const cid of await folder.liveBlocks()) live.add(cid)
    return live
  }

  private folder (user: string): PersonalFolder {
    const folder = this.folders.get(user)
    if (folder === undefined) throw new PersonalUserNotFoundError(`no personal folder for user ${user} on this node (config "personalization")`)
    return folder
  }

  async status (): Promise<PersonalStatusInfo[]> {
    return Promise.all([...this.folders.values()].map(async s => {
      const status = await s.status()
      return { ...status, lastError: this.startErrors.get(status.user) ?? status.lastError }
    }))
  }

  async log (user: string): Promise<PersonalSnapshotInfo[]> {
    return (await this.folder(user).log()).map(snapshotInfo)
  }

  /** The CachePoint's pause: snapshots go on, replication and merging wait for resume. */
  setPaused (paused: boolean): void {
    this.paused = paused
    for (const folder of this.folders.values()) folder.setPaused(paused)
  }

  private paused = false

  /** Sync now: sends what waits for the store, in the background (offline, it keeps waiting). */
  replicateNow (): void {
    if (this.paused) return
    for (const [user, folder] of this.folders) {
      folder.replicate().catch((err: Error) => { this.logger.info({ user, err: err.message }, 'personal snapshots of %s wait for the store: %s', user, err.message) })
    }
  }

  async snapshot (user: string): Promise<PersonalSnapshotResultInfo> {
    const folder = this.folder(user)
    while (this.collecting !== undefined) await this.collecting.catch(() => {})
    const s = await folder.snapshot()
    const result: PersonalSnapshotResultInfo = { ...snapshotInfo(s), created: s.created }
    if (this.paused) {
      result.replicateError = 'this CachePoint is paused: the snapshot is kept here and sent on resume (cachepoint resume)'
      return result
    }
    try {
      result.sent = (await folder.replicate()).replicated
      if (this.merging.has(user)) {
        // the user's other machines: their changes come into the folder, and the merged folder goes out
        const merged = await folder.mergeRemotes()
        // (an empty new folder was filled by a merge inside the snapshot already: counted too)
        result.merged = { applied: merged.applied + (s.merged?.applied ?? 0), conflicts: [...(s.merged?.conflicts ?? []), ...merged.conflicts] }
        if (merged.applied > 0 || merged.conflicts.length > 0) result.sent += (await folder.replicate()).replicated
      }
      result.replicated = (await folder.log()).find(x => x.cid.equals(s.cid))?.replicated ?? s.replicated
    } catch (err) {
      // offline is normal: the snapshot is kept and sent later
      result.replicateError = (err as Error).message
    }
    return result
  }

  async restore (request: PersonalRestoreRequest): Promise<PersonalRestoreResultInfo> {
    const r = await this.folder(request.user).restore(request.path ?? '', {
      ...(request.at === undefined ? {} : { at: request.at }),
      ...(request.to === undefined ? {} : { to: request.to }),
      ...(request.fromStore === undefined ? {} : { fromStore: request.fromStore })
    })
    return { user: request.user, snapshot: snapshotInfo(r.snapshot), files: r.files, bytes: r.bytes, paths: r.paths }
  }
}
