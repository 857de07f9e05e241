import { readdir, rename, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { formatVersionRef, parseVersionRef, type CID } from '@cachecloud/core'
import { blocksOfChunks, commitVersion, VersionIncompleteError, type Catalog } from '@cachecloud/image'
import type { Blockstore } from '@cachecloud/blockstore'
import type { PublisherKey } from '@cachecloud/manifest'
import { createOverlay, freezeOverlay, OverlayMismatchError, readOverlayChunks, readOverlayInfo, type BlockDevice, type Overlay, type OverlayInfo as OverlayMeta } from '@cachecloud/nbd'
import type { CommitOverlayRequest, CommitResultInfo, OverlayInfo } from '@cachecloud/control'
import { MAX_CLONE_DEPTH } from './constants.js'
import { CloneDepthError, InvalidOverlayNameError, OverlayExistsError, OverlayInUseError, OverlayNotFoundError } from './errors.js'

export const OVERLAY_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/

/** An overlay and the layers under it (clones of clones), bottom first; closing closes them all. */
export interface OverlayChain {
  top: Overlay
  layers: Overlay[]
  close(): Promise<void>
}

/** The names from `name` down to the overlay made over a version (bounded, no cycles). */
export async function chainOf (root: string, name: string): Promise<Array<{ name: string, info: OverlayMeta }>> {
  const out: Array<{ name: string, info: OverlayMeta }> = []
  let current: string | null | undefined = name
  while (current !== null && current !== undefined) {
    if (out.length >= MAX_CLONE_DEPTH || out.some(x => x.name === current)) throw new CloneDepthError(`overlay ${name} sits on more than ${MAX_CLONE_DEPTH} clones (or a loop of them)`)
    if (!OVERLAY_NAME.test(current)) throw new OverlayNotFoundError(`overlay ${name} names a parent "${current}" that is not an overlay name`)
    const info: OverlayMeta = await readOverlayInfo(join(root, current)).catch((err: NodeJS.ErrnoException) => {
      if (err.code === 'ENOENT') throw new OverlayNotFoundError(`no overlay named ${current ?? ''} (list them with: cachepoint image overlays)`)
      throw err
    })
    out.push({ name: current, info })
    current = info.parent
  }
  return out
}

/** Opens `name` over `base`: its parents read-only below it, it on top (writable unless readOnly). */
export async function openChain (root: string, name: string, base: BlockDevice, baseId: string, label: string, readOnly: boolean): Promise<OverlayChain> {
  const chain = (await chainOf(root, name).catch((err: unknown) => { if (err instanceof OverlayNotFoundError && !readOnly) return []; throw err })).reverse()
  const layers: Overlay[] = []
  const close = async (): Promise<void> => { for (const l of layers.reverse()) await l.close().catch(() => {}) }
  try {
    let device = base
    for (const { name: layer } of chain.slice(0, -1)) {
      const o = await createOverlay({ dir: join(root, layer), base: device, baseId, label, readOnly: true })
      layers.push(o)
      device = o
    }
    const top = await createOverlay({ dir: join(root, name), base: device, baseId, label, readOnly })
    layers.push(top)
    return { top, layers, close }
  } catch (err) {
    await close()
    throw err
  }
}

/** Chunks written anywhere in the chain (the writes a commit takes on top of the version). */
async function writtenChunks (root: string, name: string): Promise<{ chunks: Set<number>, chunkBytes: number }> {
  const chunks = new Set<number>()
  let chunkBytes = 0
  for (const { name: layer, info } of await chainOf(root, name)) {
    if (chunkBytes !== 0 && info.chunkBytes !== chunkBytes) throw new OverlayMismatchError(`overlay ${layer} has chunks of ${info.chunkBytes} bytes, its clone ${chunkBytes}`)
    chunkBytes = info.chunkBytes
    for (const c of await readOverlayChunks(join(root, layer))) chunks.add(c)
  }
  return { chunks, chunkBytes }
}

export interface ClonesContext {
  root: string
  catalog: Catalog
  blockstore: Blockstore
  publisherKey: PublisherKey
  /** Announces a version to subscribers (swarm publish). */
  publish?: (ref: string) => Promise<unknown>
  /** Who uses an overlay now, if anyone: an export (its id), or a commit or serve under way. */
  userOf: (name: string) => OverlayUser | undefined
  /** A read-only device of a version held here. */
  openVersion: (cid: CID, ref: string) => Promise<{ device: BlockDevice & { close(): void } }>
}

/** An export writing to an overlay (`id`), or an operation holding it for a moment. */
export type OverlayUser = { id: string } | { busy: string }

/** Throws OverlayInUseError if anyone uses the overlay; `what` is what the caller would do ("committing it"). */
export function assertFree (userOf: (name: string) => OverlayUser | undefined, name: string, what: string): void {
  const user = userOf(name)
  if (user === undefined) return
  if ('id' in user) throw new OverlayInUseError(`overlay ${name} is in use by the export at ${user.id}: stop it before ${what} (cachepoint image unserve ${user.id})`)
  throw new OverlayInUseError(`overlay ${name} is in use by ${user.busy}: try again when it is done`)
}

async function childrenOf (root: string, name: string): Promise<string[]> {
  return (await listMetas(root)).filter(o => o.info.parent === name).map(o => o.name)
}

async function listMetas (root: string): Promise<Array<{ name: string, info: OverlayMeta }>> {
  const names = await readdir(root).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return []; throw err })
  const out: Array<{ name: string, info: OverlayMeta }> = []
  for (const name of names.sort()) {
    if (!OVERLAY_NAME.test(name)) continue
    const info = await readOverlayInfo(join(root, name)).catch(() => undefined)
    if (info !== undefined) out.push({ name, info })
  }
  return out
}

function idOf (user: OverlayUser | undefined): string | null {
  return user === undefined ? null : 'id' in user ? user.id : user.busy
}

/** Every overlay, with its place in the tree: parent overlay, clones, bytes written by it alone. */
export async function listOverlays (ctx: ClonesContext, live: (name: string) => Overlay | undefined): Promise<OverlayInfo[]> {
  const metas = await listMetas(ctx.root)
  return await Promise.all(metas.map(async ({ name, info }) => {
    const written = live(name)?.writtenChunks ?? (await readOverlayChunks(join(ctx.root, name)).catch(() => [])).length
    return {
      name, ref: info.label, baseCid: info.baseId, size: info.size, writtenBytes: Math.min(info.size, written * info.chunkBytes), createdAt: info.createdAt,
      inUseBy: idOf(ctx.userOf(name)), parent: info.parent ?? null, frozen: info.frozen === true,
      clones: metas.filter(m => m.info.parent === name).map(m => m.name)
    }
  }))
}

/** A clone of an overlay's current state: the source is frozen (it becomes a shared layer), the clone starts empty on top of it. */
export async function cloneOverlay (ctx: ClonesContext, from: string, name: string): Promise<void> {
  if (!OVERLAY_NAME.test(name)) throw new InvalidOverlayNameError(`overlay name "${name}" must be letters, digits, ".", "_" or "-"`)
  const [source] = await chainOf(ctx.root, from)
  assertFree(ctx.userOf, from, 'cloning it')
  if ((await listMetas(ctx.root)).some(o => o.name === name)) throw new OverlayExistsError(`overlay ${name} exists already; choose another name or discard it`)
  if ((await chainOf(ctx.root, from)).length >= MAX_CLONE_DEPTH) throw new CloneDepthError(`overlay ${from} is ${MAX_CLONE_DEPTH} clones deep already`)
  await freezeOverlay(join(ctx.root, from))
  const empty: BlockDevice = { size: source.info.size, read: async () => { throw new OverlayNotFoundError('not read') } }
  const o = await createOverlay({ dir: join(ctx.root, name), base: empty, baseId: source.info.baseId, label: source.info.label, parent: from })
  await o.close()
}

/** Deletes an overlay not in use and not under a clone. */
export async function discardOverlay (ctx: ClonesContext, name: string): Promise<void> {
  assertFree(ctx.userOf, name, 'discarding it')
  const clones = await childrenOf(ctx.root, name)
  if (clones.length > 0) throw new OverlayInUseError(`overlay ${name} is the base of ${clones.join(', ')}: discard or rebase those first`)
  const [{ info }] = await chainOf(ctx.root, name)
  await rm(join(ctx.root, name), { recursive: true, force: true })
  await thawIfBare(ctx.root, info.parent)
}

/** A frozen overlay whose last clone went takes writes again. */
async function thawIfBare (root: string, name: string | null | undefined): Promise<void> {
  if (name === null || name === undefined || !OVERLAY_NAME.test(name)) return
  if ((await childrenOf(root, name)).length > 0) return
  await freezeOverlay(join(root, name), false).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
}

/** The overlay's writes (and its parents') on top of its version become NAME@VERSION, signed here; the overlay is only read. */
export async function commitOverlay (
  ctx: ClonesContext,
  request: CommitOverlayRequest,
  onProgress?: (e: { type: string, done: number, total: number }) => void
): Promise<CommitResultInfo> {
  const started = performance.now()
  const target = parseVersionRef(request.ref)
  const chain = await chainOf(ctx.root, request.name)
  for (const { name } of chain) assertFree(ctx.userOf, name, 'committing it')
  const { info } = chain[0]
  const base = (await ctx.catalog.list()).find(e => e.cid.toString() === info.baseId)
  if (base === undefined) throw new OverlayNotFoundError(`the version under overlay ${request.name} (${info.label}, ${info.baseId}) is no longer held here`)
  const baseRef = formatVersionRef(base)
  if (base.state !== 'complete') throw new VersionIncompleteError(`${baseRef} under overlay ${request.name} is still being pulled; finish it first (cachepoint image pull ${baseRef})`)
  const manifest = await ctx.catalog.manifest(base)
  const { chunks, chunkBytes } = await writtenChunks(ctx.root, request.name)
  const { device } = await ctx.openVersion(base.cid, baseRef)
  let opened: OverlayChain | undefined
  try {
    opened = await openChain(ctx.root, request.name, device, info.baseId, info.label, true)
    const result = await commitVersion({
      base: manifest, baseCid: base.cid, source: opened.top, writtenBlocks: blocksOfChunks(chunks, chunkBytes, manifest.blockSize, manifest.size),
      name: target.name, version: target.version, blockstore: ctx.blockstore, catalog: ctx.catalog, key: ctx.publisherKey,
      ...(onProgress === undefined ? {} : { onProgress })
    })
    const ref = formatVersionRef(target)
    let published = false
    if (request.publish === true && ctx.publish !== undefined) { await ctx.publish(ref); published = true }
    return {
      ref,
      cid: result.cid.toString(),
      parent: baseRef,
      parentCid: base.cid.toString(),
      overlay: request.name,
      ...result.stats,
      published,
      durationMs: performance.now() - started
    }
  } finally {
    await opened?.close()
    device.close()
  }
}

/** Moves an overlay to another version, dropping its writes (View Composer's recompose). */
export async function rebaseOverlay (ctx: ClonesContext, name: string, cid: CID, ref: string, size: number): Promise<void> {
  const [{ info }] = await chainOf(ctx.root, name)
  assertFree(ctx.userOf, name, 'rebasing it')
  const clones = await childrenOf(ctx.root, name)
  if (clones.length > 0) throw new OverlayInUseError(`overlay ${name} is the base of ${clones.join(', ')}: discard or rebase those first`)
  // the new one is made aside, then swapped in by two renames (the writes are dropped either way)
  const aside = join(ctx.root, `.rebase-${name}`)
  await rm(aside, { recursive: true, force: true })
  const empty: BlockDevice = { size, read: async () => { throw new OverlayNotFoundError('not read') } }
  const o = await createOverlay({ dir: aside, base: empty, baseId: cid.toString(), label: ref })
  await o.close()
  const old = join(ctx.root, `.discard-${name}`)
  await rm(old, { recursive: true, force: true })
  await rename(join(ctx.root, name), old)
  await rename(aside, join(ctx.root, name))
  await rm(old, { recursive: true, force: true })
  await thawIfBare(ctx.root, info.parent)
}
