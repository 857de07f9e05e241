import { watch, type FSWatcher } from 'node:fs'
import { lstat, readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Libp2p, PeerId } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import type { Logger } from 'pino'
import type { Blockstore } from '@cachecloud/blockstore'
import { createChunker, CHUNKER_ID, type Chunker } from '@cachecloud/chunker'
import { parseCid, type ProgressEvent } from '@cachecloud/core'
import { DecryptionFailedError, deriveSigningKey, deriveUserKeyFromPrivate, deriveUserKeys, EmptyFirstSnapshotError, encodeRecord, MAX_HISTORY_SNAPSHOTS, MAX_REPORTED_CONFLICTS, openDirBlock, restoreTree, SEALED_PUT, signRecord, SNAPSHOT_FORMAT, SnapshotNotFoundError, STATE_FILES, StoreNotConfiguredError, wrapUserKey, x25519PublicKey, type RestoreResult, type SigningKey, type SnapshotRecord, type UserKeys } from '@cachecloud/personal-format'
import { mergeRemotes, type MergeResult } from './merge-remotes.js'
import { restoreFromStore } from './restore-remote.js'
import { StoreReader } from './store-reader.js'
import { reachable } from './replicate.js'
import { replicatePending, type ReplicatePendingResult } from './replicate-pending.js'
import { scanFolder, type ScanStats } from './scan.js'
import {
  appendSnapshotLog, loadScanCache, loadMergeBase, readReplicated, readSnapshotLog, saveScanCache, type LoggedSnapshot, type ScanCache
} from './state.js'
import type { CID } from '@cachecloud/core'
import { loadOrCreateUserKey, readPreviousKeys, readUserKeyFile } from './user-key.js'
import type { PersonalFolderInit, PersonalFolder, PersonalStatus, RestoreOptions, SnapshotInfo, SnapshotResult } from './index.js'

/** Options resolved to values (see PersonalFolderInit for each). */
export interface ResolvedInit {
  user: string
  folder: string
  stateDir: string
  blockstore: Blockstore
  node: string
  discoveryKey: Uint8Array
  userPublicKey?: Uint8Array
  userKey?: Uint8Array
  userPrivateKey?: Uint8Array
  userKeyFile?: string
  merge: boolean
  libp2p?: Libp2p
  store?: PeerId | Multiaddr
  fallbackStores?: Array<PeerId | Multiaddr>
  timing: { scanIntervalMs: number, debounceMs: number, replicateIntervalMs: number, reofferIntervalMs: number, timeoutMs: number }
  watch: boolean
  concurrency: number
  sealThreads?: number
  log?: Logger
  onProgress?: (event: ProgressEvent) => void
  init: PersonalFolderInit
}

export class DefaultPersonalFolder implements PersonalFolder {
  private keys?: UserKeys
  /** Keys the folder was versioned with before (adoptUserKey): its older snapshots open with one of them. */
  private previousKeys: UserKeys[] = []
  /** The user's snapshot-signing key, with the user's key pair: records are signed, other machines' verified. */
  private signing?: SigningKey
  private wrapped?: SnapshotRecord['keys']
  private cache?: ScanCache
  /** Keyed by the user's gearKey (set with the keys). */
  private chunker?: Chunker
  private queue: Promise<unknown> = Promise.resolve()
  private watcher?: FSWatcher
  private timers: NodeJS.Timeout[] = []
  private debounce?: NodeJS.Timeout
  private lastError?: string
  /** Paused (the CachePoint's pause): snapshots go on here, nothing goes to or comes from the store. */
  private networkPaused = false
  private lastScan?: ScanStats
  private lastMerge?: PersonalStatus['lastMerge']
  private conflicts: string[] = []
  private replicating?: Promise<unknown>
  /** When a snapshot was last offered to the store (none yet in this process: the first replication offers one). */
  private lastOffer = Number.NEGATIVE_INFINITY

  constructor (private readonly c: ResolvedInit) {}

  private path (name: keyof typeof STATE_FILES): string { return join(this.c.stateDir, STATE_FILES[name]) }

  private async ready (): Promise<UserKeys> {
    if (this.keys === undefined) {
      const priv = this.c.userPrivateKey ?? (this.c.userKeyFile === undefined ? undefined : await readUserKeyFile(this.c.userKeyFile))
      const userKey = await loadOrCreateUserKey(this.path('userKey'), priv === undefined ? this.c.userKey : deriveUserKeyFromPrivate(priv, this.c.user))
      this.keys = deriveUserKeys(userKey)
      this.previousKeys = (await readPreviousKeys(this.c.stateDir)).map(deriveUserKeys)
      this.chunker = createChunker({ gearKey: this.keys.gearKey })
      if (priv !== undefined) this.signing = deriveSigningKey(priv, this.c.user)
      const userPublic = this.c.userPublicKey ?? (priv === undefined ? undefined : x25519PublicKey(priv))
      this.wrapped = { discovery: wrapUserKey(userKey, this.c.discoveryKey), user: userPublic === undefined ? null : wrapUserKey(userKey, userPublic) }
    }
    return this.keys
  }

  /** Runs one operation at a time (scan, replicate and restore share state files). */
  private exclusive<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return run
  }

  async start (): Promise<void> {
    await this.ready()
    const background = (what: string, fn: () => Promise<unknown>): void => {
      fn().catch(err => { this.lastError = `${what}: ${(err as Error).message}`; this.c.log?.warn({ err, user: this.c.user }, 'personal %s failed', what) })
    }
    if (this.c.watch) {
      this.watcher = watch(this.c.folder, { recursive: true }, () => {
        clearTimeout(this.debounce)
        this.debounce = setTimeout(() => { background('snapshot', async () => { await this.snapshotThenReplicate() }) }, this.c.timing.debounceMs)
      })
      this.watcher.on('error', err => { this.lastError = `watch: ${err.message}` })
    }
    this.timers.push(setInterval(() => { background('snapshot', async () => { await this.snapshotThenReplicate() }) }, this.c.timing.scanIntervalMs))
    if (this.c.libp2p !== undefined && this.c.store !== undefined) {
      this.timers.push(setInterval(() => { if (!this.networkPaused) background('replicate', async () => { await this.syncWithStore() }) }, this.c.timing.replicateIntervalMs))
    }
    background('snapshot', async () => { await this.snapshotThenReplicate() })
  }

  async stop (): Promise<void> {
    this.watcher?.close()
    clearTimeout(this.debounce)
    for (const t of this.timers) clearInterval(t)
    this.timers = []
    await this.queue
    await this.replicating
  }

  private async snapshotThenReplicate (): Promise<void> {
    await this.snapshot()
    if (this.c.libp2p !== undefined && this.c.store !== undefined && !this.networkPaused) await this.syncWithStore()
  }

  setPaused (paused: boolean): void {
    const resumed = this.networkPaused && !paused
    this.networkPaused = paused
    if (resumed && this.c.libp2p !== undefined && this.c.store !== undefined) {
      this.syncWithStore().catch(err => { this.lastError = `replicate: ${(err as Error).message}` })
    }
  }

  get paused (): boolean { return this.networkPaused }

  /** Sends pending snapshots, then (when merging) takes in the other nodes' changes and sends the merged folder. */
  private async syncWithStore (): Promise<void> {
    await this.replicate()
    if (!this.c.merge) return
    const merged = await this.mergeRemotes()
    if (merged.applied > 0 || merged.conflicts.length > 0) await this.replicate()
  }

  mergeRemotes (): Promise<MergeResult> {
    return this.exclusive(async () => await this.mergeNow())
  }

  /** The merge of the other nodes' snapshots; callers hold the exclusive section. */
  private async mergeNow (): Promise<MergeResult> {
    const keys = await this.ready()
    const reader = await this.openReader()
    try {
      const result = await mergeRemotes({
        reader, blockstore: this.c.blockstore, keys, folder: this.c.folder, user: this.c.user, node: this.c.node, basePath: this.path('mergeBase'),
        ...(this.signing === undefined ? {} : { signingPublicKey: this.signing.publicKey }),
        // the local side: an empty folder without history is an empty tree, not a snapshot
        snapshotNow: async () => await this.snapshotNow(false).catch(err => {
          if (err instanceof EmptyFirstSnapshotError) return { root: err.root }
          throw err
        }),

        // only this key's snapshots (those before an adopted key pair are sealed with the old key)
        localRoots: async () => await this.ownRoots(),
        ...(this.c.log === undefined ? {} : { log: this.c.log })
      })
      // the merged folder becomes a snapshot of its own, replicated like any other
      if (result.applied > 0 || result.conflicts.length > 0) await this.snapshotNow(false)
      if (result.merged > 0) this.lastMerge = { at: new Date().toISOString(), applied: result.applied }
      this.conflicts = [...this.conflicts, ...result.conflicts].slice(-MAX_REPORTED_CONFLICTS)
      return result
    } finally {
      await reader.close()
    }
  }

  /** Roots of this node's last MAX_HISTORY_SNAPSHOTS snapshots that open with the current key, newest first. */
  private async ownRoots (): Promise<CID[]> {
    const keys = await this.ready()
    const out: CID[] = []
    for (const s of (await readSnapshotLog(this.path('log'))).reverse().slice(0, MAX_HISTORY_SNAPSHOTS)) if (await this.opens(keys, s.root)) out.push(s.root)
    return out
  }

  private async opens (keys: UserKeys, root: CID): Promise<boolean> {
    try { openDirBlock(keys, await this.c.blockstore.get(root)); return true } catch (err) {
      if (err instanceof DecryptionFailedError) return false
      throw err
    }
  }

  /** The key a local snapshot is sealed with: the current one, or one the folder had before adopting a key pair. */
  private async keysFor (root: CID): Promise<UserKeys> {
    const keys = await this.ready()
    for (const k of [keys, ...this.previousKeys]) if (await this.opens(k, root)) return k
    return keys // fails to open with the usual error
  }

  private async openReader (): Promise<StoreReader> {
    const { libp2p, store } = this.c
    if (libp2p === undefined || store === undefined) throw new StoreNotConfiguredError('no store configured: there is nothing to read from')
    return await StoreReader.open({ libp2p, store, timeoutMs: this.c.timing.timeoutMs })
  }

  snapshot (options: { force?: boolean } = {}): Promise<SnapshotResult> {
    return this.exclusive(async () => {
      try {
        return await this.snapshotNow(options.force === true)
      } catch (err) {
        // an empty folder without history: with the user's key pair, the user's other machines may fill it
        const canMerge = this.c.merge && this.c.libp2p !== undefined && this.c.store !== undefined && !this.networkPaused
        if (!(err instanceof EmptyFirstSnapshotError) || !canMerge) throw err
        const merged = await this.mergeNow().catch(() => undefined)
        if (merged === undefined || (merged.applied === 0 && merged.conflicts.length === 0)) throw err
        // the merge recorded the filled folder (this node had no snapshot before: it is new either way)
        return { ...await this.snapshotNow(options.force === true), created: true, merged: { applied: merged.applied, conflicts: merged.conflicts } }
      }
    })
  }

  /** Scans and records a snapshot if anything changed; callers hold the exclusive section. */
  private async snapshotNow (force: boolean): Promise<SnapshotResult> {
    const keys = await this.ready()
    this.cache ??= await loadScanCache(this.path('scanCache'))
    const time = new Date().toISOString()
    const onProgress = this.c.onProgress
    const { root, cache, stats } = await scanFolder({
      folder: this.c.folder,
      blockstore: this.c.blockstore,
      chunker: this.chunker!,
      keys,
      previous: this.cache,
      concurrency: this.c.concurrency,
      ...(this.c.sealThreads === undefined ? {} : { sealThreads: this.c.sealThreads }),
      ...(onProgress === undefined ? {} : { onProgress })
    })
    this.lastScan = stats
    const log = await readSnapshotLog(this.path('log'))
    const last = log.at(-1)
    // an empty folder on a node that never had a snapshot of it (a new machine, a folder not restored yet)
    // must not become the user's latest snapshot: a restore from the store would then restore nothing
    if (last === undefined && !force && stats.files === 0 && (await readdir(this.c.folder)).length === 0) {
      this.cache = cache
      throw new EmptyFirstSnapshotError(root, `${this.c.folder} is empty and this node has no snapshot of ${this.c.user}'s folder yet: nothing recorded (restore it with \`cachepoint personal restore --from-store\`, or add files)`)
    }
    if (last !== undefined && last.root.equals(root) && !force) {
      this.cache = cache
      // nothing read and nothing sealed: the cache on disk already says all this
      if (stats.hashedFiles > 0 || stats.sealedDirs > 0) await saveScanCache(this.path('scanCache'), cache)
      return { ...toInfo(last, true), created: false, stats }
    }
    const unsigned: SnapshotRecord = {
      format: SNAPSHOT_FORMAT, user: this.c.user, node: this.c.node, time, parent: last?.cid ?? null, root,
      chunker: this.chunker!.id, keys: this.wrapped!, files: stats.files, bytes: stats.bytes
    }
    const record = this.signing === undefined ? unsigned : signRecord(unsigned, this.signing)
    const encoded = encodeRecord(record)
    await this.c.blockstore.put(encoded.cid, encoded.bytes, SEALED_PUT)
    await this.c.blockstore.sync()
    const logged: LoggedSnapshot = {
      cid: encoded.cid,
      time,
      root,
      parent: record.parent,
      files: stats.files,
      bytes: stats.bytes,
      newBytes: stats.newBytes + encoded.bytes.byteLength
    }
    await appendSnapshotLog(this.path('log'), logged)
    this.cache = cache
    await saveScanCache(this.path('scanCache'), cache)
    this.c.log?.info({ user: this.c.user, snapshot: encoded.cid.toString(), ...stats }, 'personal snapshot')
    return { ...toInfo(logged, false), created: true, stats }
  }

  replicate (): Promise<ReplicatePendingResult> {
    const run = this.exclusive(async () => {
      const { libp2p, store } = this.c
      if (libp2p === undefined || store === undefined) throw new StoreNotConfiguredError('no store configured: snapshots stay local')
      const done = await readReplicated(this.path('replicated'))
      const keys = await this.ready()
      const log = await readSnapshotLog(this.path('log'))
      const result = await replicatePending({
        libp2p, targets: [store, ...(this.c.fallbackStores ?? [])], blockstore: this.c.blockstore, keys, snapshots: log, done, replicatedPath: this.path('replicated'),
        timeoutMs: this.c.timing.timeoutMs, reofferIntervalMs: this.c.timing.reofferIntervalMs,
        lastOffer: this.lastOffer, onOffered: () => { this.lastOffer = performance.now() },
        opens: async (root) => await this.opens(keys, root),
        ...(this.c.log === undefined ? {} : { log: this.c.log }), ...(this.c.onProgress === undefined ? {} : { onProgress: this.c.onProgress })
      })
      this.lastError = undefined
      return result
    })
    this.replicating = run.catch(() => {})
    return run
  }

  async liveBlocks (): Promise<Set<string>> {
    const live = new Set<string>()
    for (const s of await readSnapshotLog(this.path('log'))) {
      live.add(s.cid.toString())
      await reachable(this.c.blockstore, s.root, live)
    }
    // the other nodes' snapshots last merged: the base of the next merge
    for (const m of Object.values((await loadMergeBase(this.path('mergeBase'))).merged)) {
      live.add(m.cid)
      await reachable(this.c.blockstore, parseCid(m.root), live)
    }
    return live
  }

  async log (): Promise<SnapshotInfo[]> {
    const done = await readReplicated(this.path('replicated'))
    return (await readSnapshotLog(this.path('log'))).map(s => toInfo(s, done.has(s.cid.toString())))
  }

  async status (): Promise<PersonalStatus> {
    const log = await this.log()
    const pending = log.filter(s => !s.replicated)
    return {
      user: this.c.user,
      folder: this.c.folder,
      snapshots: log.length,
      pendingSnapshots: pending.length,
      pendingBytes: pending.reduce((n, s) => n + s.newBytes, 0),
      lastSnapshot: log.at(-1)?.time ?? null,
      lastScan: this.lastScan ?? null,
      lastError: this.lastError ?? null,
      lastMerge: this.lastMerge ?? null,
      conflicts: (await Promise.all(
        this.conflicts.map(async c => await lstat(join(this.c.folder, c)).then(() => c, () => undefined))
      )).filter(c => c !== undefined)
    }
  }

  restore (path = '', options: RestoreOptions = {}): Promise<RestoreResult & { snapshot: SnapshotInfo }> {
    return this.exclusive(async () => {
      const keys = await this.ready()
      if (options.fromStore === true) return await this.restoreRemote(keys, path, options)
      const at = options.at === undefined ? Infinity : new Date(options.at).getTime()
      const log = await this.log()
      const snapshot = log.filter(s => Date.parse(s.time) <= at).at(-1)
      if (snapshot === undefined) throw new SnapshotNotFoundError(`no snapshot of ${this.c.user} at or before ${options.at === undefined ? 'now' : new Date(at).toISOString()}`)
      const result = await restoreTree(this.c.blockstore, await this.keysFor(snapshot.root), snapshot.root, path, options.to ?? this.c.folder)
      return { ...result, snapshot }
    })
  }

  private async restoreRemote (keys: UserKeys, path: string, options: RestoreOptions): Promise<RestoreResult & { snapshot: SnapshotInfo }> {
    const reader = await this.openReader()
    const verify = this.signing === undefined ? {} : { signingPublicKey: this.signing.publicKey }
    try {
      return await restoreFromStore(
        reader,
        this.c.blockstore,
        keys,
        this.c.user,
        path,
        { ...options, ...verify, to: options.to ?? this.c.folder }
      )
    } finally { await reader.close() }
  }
}

function toInfo (s: LoggedSnapshot, replicated: boolean): SnapshotInfo {
  return { cid: s.cid, time: s.time, root: s.root, parent: s.parent, files: s.files, bytes: s.bytes, newBytes: s.newBytes, replicated }
}

export function parseStoreTarget (store: PeerId | Multiaddr | string | undefined): PeerId | Multiaddr | undefined {
  return typeof store === 'string' ? multiaddr(store) : store
}

export { CHUNKER_ID }
