import { mkdir, readdir, readFile, rmdir, unlink } from 'node:fs/promises'
import { join } from 'node:path'
import { CID } from 'multiformats/cid'
import { assertValidLabel, formatVersionRef, fsyncDir, writeFileAtomic, type VersionRef } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import { decodeManifestFor, encodeManifest, formatPublicKey, InvalidManifestError } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import type { Catalog, CatalogEntry, CatalogInit, DamagedRef, VersionState } from './catalog.js'
import { CATALOG_FORMAT_VERSION, CATALOG_REFS_DIR } from './constants.js'
import { CatalogCorruptError, ImageNotFoundError, VersionExistsError, VersionNotFoundError } from './errors.js'

/**
 * A ref file, `<path>/refs/<name>/<version>.json`. The manifest (in the block
 * store) is the truth; the summary fields spare list() and latest() decoding
 * every manifest. Format: docs/formats/image.md.
 */
interface RefFile {
  v: number
  cid: string
  state: VersionState
  size: number
  blockSize: number
  createdAt: string
  parent: string | null
  publisher: string
}

const STATES: ReadonlySet<string> = new Set(['complete', 'pulling'])

export class FsCatalog implements Catalog {
  private readonly refsDir: string
  private readonly blockstore: Blockstore
  /** Serialises mutations, so two adds of one ref in this process cannot interleave. */
  private queue: Promise<unknown> = Promise.resolve()

  constructor (init: CatalogInit) {
    this.refsDir = join(init.path, CATALOG_REFS_DIR)
    this.blockstore = init.blockstore
  }

  async start (): Promise<void> {
    await mkdir(this.refsDir, { recursive: true })
    // Temp files of ref writes interrupted by a crash: the old ref (if any) is still in place.
    for (const name of await readdir(this.refsDir)) {
      if (name.startsWith('.')) continue
      for (const file of await readdir(join(this.refsDir, name))) {
        if (file.startsWith('.') && file.includes('.tmp-')) await unlink(join(this.refsDir, name, file)).catch(() => {})
      }
    }
  }

  async stop (): Promise<void> {
    await this.queue.catch(() => {})
  }

  async add (manifest: ImageManifest, state: VersionState): Promise<CatalogEntry> {
    assertValidLabel('image name', manifest.name)
    assertValidLabel('version', manifest.version)
    const { bytes, cid } = encodeManifest(manifest)
    return await this.serial(async () => {
      const existing = await this.find(manifest)
      if (existing !== undefined) {
        if (!existing.cid.equals(cid)) {
          throw new VersionExistsError(`${formatVersionRef(manifest)} already exists with manifest ${existing.cid.toString()}; choose another version label`)
        }
        if (existing.state === 'complete' || state === 'pulling') return existing
      }
      await this.blockstore.put(cid, bytes)
      // The ref must never point at a manifest that is not durable.
      await this.blockstore.sync()
      const entry = entryOf(manifest, cid, state)
      await this.writeRef(entry)
      return entry
    })
  }

  async markComplete (ref: VersionRef): Promise<CatalogEntry> {
    return await this.serial(async () => {
      const entry = await this.get(ref)
      if (entry.state === 'complete') return entry
      const done: CatalogEntry = { ...entry, state: 'complete' }
      await this.writeRef(done)
      return done
    })
  }

  async markIncomplete (ref: VersionRef): Promise<CatalogEntry> {
    return await this.serial(async () => {
      const entry = await this.get(ref)
      if (entry.state === 'pulling') return entry
      const back: CatalogEntry = { ...entry, state: 'pulling' }
      await this.writeRef(back)
      return back
    })
  }

  async get (ref: VersionRef): Promise<CatalogEntry> {
    const entry = await this.find(ref)
    if (entry !== undefined) return entry
    const versions = await this.versionsOf(ref.name)
    if (versions.length === 0) throw new ImageNotFoundError(`image ${JSON.stringify(ref.name)} is not in the catalog`)
    throw new VersionNotFoundError(`version ${formatVersionRef(ref)} is not in the catalog (held: ${versions.slice(0, 10).join(', ')}${versions.length > 10 ? ', ...' : ''})`)
  }

  async find (ref: VersionRef): Promise<CatalogEntry | undefined> {
    assertValidLabel('image name', ref.name)
    assertValidLabel('version', ref.version)
    const path = this.refPath(ref)
    let text: string
    try {
      text = await readFile(path, 'utf8')
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined
      throw new CatalogCorruptError(`cannot read catalog entry ${formatVersionRef(ref)} (${path}): ${(err as Error).message}`, { cause: err })
    }
    return parseRef(ref, path, text)
  }

  async latest (name: string): Promise<CatalogEntry | undefined> {
    let best: CatalogEntry | undefined
    for (const version of await this.versionsOf(name)) {
      const entry = await this.find({ name, version })
      if (entry === undefined || entry.state !== 'complete') continue
      if (best === undefined || Date.parse(entry.createdAt) > Date.parse(best.createdAt)) best = entry
    }
    return best
  }

  async manifest (ref: VersionRef): Promise<ImageManifest> {
    const entry = await this.get(ref)
    return await this.loadManifest(entry)
  }

  async list (): Promise<CatalogEntry[]> {
    const entries: CatalogEntry[] = []
    for (const name of (await this.names()).sort()) {
      for (const version of await this.versionsOf(name)) {
        const entry = await this.find({ name, version })
        if (entry !== undefined) entries.push(entry)
      }
    }
    return entries
  }

  async remove (ref: VersionRef): Promise<void> {
    await this.serial(async () => {
      await this.get(ref)
      await unlink(this.refPath(ref))
      const dir = join(this.refsDir, ref.name)
      await fsyncDir(dir)
      if ((await this.versionsOf(ref.name)).length === 0) {
        await rmdir(dir).catch(() => {})
        await fsyncDir(this.refsDir)
      }
    })
  }

  async forget (ref: VersionRef): Promise<void> {
    assertValidLabel('image name', ref.name)
    assertValidLabel('version', ref.version)
    await this.serial(async () => {
      await unlink(this.refPath(ref)).catch((err: NodeJS.ErrnoException) => { if (err.code !== 'ENOENT') throw err })
      await fsyncDir(join(this.refsDir, ref.name))
    })
  }

  async scan (): Promise<{ entries: CatalogEntry[], damaged: DamagedRef[] }> {
    const entries: CatalogEntry[] = []
    const damaged: DamagedRef[] = []
    for (const name of (await this.names()).sort()) {
      for (const version of await this.versionsOf(name)) {
        try {
          const entry = await this.find({ name, version })
          if (entry !== undefined) entries.push(entry)
        } catch (err) {
          damaged.push({ ref: `${name}@${version}`, path: this.refPath({ name, version }), message: (err as Error).message })
        }
      }
    }
    return { entries, damaged }
  }

  async liveCids (): Promise<Set<string>> {
    const live = new Set<string>()
    for (const entry of await this.list()) {
      live.add(entry.cid.toString())
      const manifest = await this.loadManifest(entry)
      for (const cid of manifest.blocks) if (cid !== null) live.add(cid.toString())
    }
    return live
  }

  private async loadManifest (entry: CatalogEntry): Promise<ImageManifest> {
    const ref = formatVersionRef(entry)
    let bytes: Uint8Array
    try {
      bytes = await this.blockstore.get(entry.cid)
    } catch (err) {
      throw new InvalidManifestError(`manifest of ${ref} (${entry.cid.toString()}) is damaged or missing in the block store: ${(err as Error).message}`, { cause: err })
    }
    let manifest: ImageManifest
    try {
      manifest = decodeManifestFor(entry.cid, bytes)
    } catch (err) {
      throw new InvalidManifestError(`manifest of ${ref} (${entry.cid.toString()}) is damaged: ${(err as Error).message}`, { cause: err })
    }
    if (manifest.name !== entry.name || manifest.version !== entry.version) {
      throw new InvalidManifestError(`manifest ${entry.cid.toString()} filed as ${ref} names ${formatVersionRef(manifest)}`)
    }
    return manifest
  }

  private refPath (ref: VersionRef): string {
    return join(this.refsDir, ref.name, `${ref.version}.json`)
  }

  private async names (): Promise<string[]> {
    try {
      return (await readdir(this.refsDir)).filter((n) => !n.startsWith('.'))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
  }

  private async versionsOf (name: string): Promise<string[]> {
    assertValidLabel('image name', name)
    let files: string[]
    try {
      files = await readdir(join(this.refsDir, name))
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return []
      throw err
    }
    return files.filter((f) => !f.startsWith('.') && f.endsWith('.json')).map((f) => f.slice(0, -'.json'.length)).sort()
  }

  private async writeRef (entry: CatalogEntry): Promise<void> {
    const dir = join(this.refsDir, entry.name)
    const created = await mkdir(dir, { recursive: true })
    if (created !== undefined) await fsyncDir(this.refsDir)
    const file: RefFile = {
      v: CATALOG_FORMAT_VERSION,
      cid: entry.cid.toString(),
      state: entry.state,
      size: entry.size,
      blockSize: entry.blockSize,
      createdAt: entry.createdAt,
      parent: entry.parent?.toString() ?? null,
      publisher: entry.publisher
    }
    await writeFileAtomic(this.refPath(entry), JSON.stringify(file) + '\n')
  }

  private async serial<T> (fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn)
    this.queue = run.catch(() => {})
    return await run
  }
}

function entryOf (manifest: ImageManifest, cid: CID, state: VersionState): CatalogEntry {
  return {
    name: manifest.name,
    version: manifest.version,
    cid,
    state,
    size: manifest.size,
    blockSize: manifest.blockSize,
    createdAt: manifest.createdAt,
    parent: manifest.parent,
    publisher: formatPublicKey(manifest.publisher)
  }
}

function parseRef (ref: VersionRef, path: string, text: string): CatalogEntry {
  const fail = (why: string): never => {
    throw new CatalogCorruptError(`catalog entry ${formatVersionRef(ref)} (${path}) is damaged: ${why}`)
  }
  let raw: Partial<RefFile>
  try {
    raw = JSON.parse(text) as Partial<RefFile>
  } catch {
    return fail('not JSON')
  }
  if (raw.v !== CATALOG_FORMAT_VERSION) fail(`unknown format version ${JSON.stringify(raw.v)}`)
  if (typeof raw.state !== 'string' || !STATES.has(raw.state)) fail(`unknown state ${JSON.stringify(raw.state)}`)
  if (typeof raw.size !== 'number' || typeof raw.blockSize !== 'number' || typeof raw.createdAt !== 'string' || typeof raw.publisher !== 'string') fail('missing fields')
  const parseCidField = (text: unknown): CID => {
    try {
      return CID.parse(String(text))
    } catch {
      return fail(`bad CID ${JSON.stringify(text)}`)
    }
  }
  return {
    name: ref.name,
    version: ref.version,
    cid: parseCidField(raw.cid),
    state: raw.state as VersionState,
    size: raw.size as number,
    blockSize: raw.blockSize as number,
    createdAt: raw.createdAt as string,
    parent: raw.parent === null || raw.parent === undefined ? null : parseCidField(raw.parent),
    publisher: raw.publisher as string
  }
}
