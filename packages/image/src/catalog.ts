import type { CID } from 'multiformats/cid'
import type { VersionRef } from '@cachecloud/core'
import type { ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import { FsCatalog } from './fs-catalog.js'

/** `pulling`: manifest known, blocks still arriving. `complete`: every block held and committed. */
export type VersionState = 'complete' | 'pulling'

export interface CatalogEntry {
  name: string
  version: string
  /** Manifest CID (dag-cbor). */
  cid: CID
  state: VersionState
  size: number
  blockSize: number
  createdAt: string
  parent: CID | null
  /** Formatted publisher key (`ed25519:...`). */
  publisher: string
}

/** A ref file that cannot be read or parsed. */
export interface DamagedRef {
  /** NAME@VERSION, from its path. */
  ref: string
  path: string
  message: string
}

export interface CatalogInit {
  /** Directory of the catalog's ref files; created if missing. */
  path: string
  /** Where manifests are stored, as dag-cbor blocks under their CID. */
  blockstore: Blockstore
}

/** The image versions a node holds: NAME@VERSION -> manifest CID and state. */
export interface Catalog {
  start(): Promise<void>
  stop(): Promise<void>
  /**
   * Stores the manifest in the blockstore and records NAME@VERSION durably.
   * Adding the same manifest again is a no-op (an existing `complete` entry stays complete);
   * a different manifest under an existing NAME@VERSION throws VersionExistsError.
   */
  add(manifest: ImageManifest, state: VersionState): Promise<CatalogEntry>
  /** Marks a pulling version complete (call after the blockstore's sync()). */
  markComplete(ref: VersionRef): Promise<CatalogEntry>
  /** Marks a complete version as pulling again: it lost blocks (a damaged store); a pull fetches what is missing. */
  markIncomplete(ref: VersionRef): Promise<CatalogEntry>
  /** Throws ImageNotFoundError (no version of that name) or VersionNotFoundError. */
  get(ref: VersionRef): Promise<CatalogEntry>
  find(ref: VersionRef): Promise<CatalogEntry | undefined>
  /** The newest (by createdAt) complete version of an image, if any. */
  latest(name: string): Promise<CatalogEntry | undefined>
  /** Loads and decodes the manifest of a version held. */
  manifest(ref: VersionRef): Promise<ImageManifest>
  list(): Promise<CatalogEntry[]>
  remove(ref: VersionRef): Promise<void>
  /** Removes a ref file whatever it holds (one `scan` found damaged: check --repair then pulls the version again). */
  forget(ref: VersionRef): Promise<void>
  /** Every entry that reads, and every ref file that does not (for check: one damaged ref does not hide the rest). */
  scan(): Promise<{ entries: CatalogEntry[], damaged: DamagedRef[] }>
  /** CIDs (string form) of every manifest and block referenced by any entry: the GC roots. */
  liveCids(): Promise<Set<string>>
}

/** A catalog of ref files under `init.path`, manifests in `init.blockstore`. Layout: docs/formats/image.md. */
export function createCatalog (init: CatalogInit): Catalog {
  return new FsCatalog(init)
}
