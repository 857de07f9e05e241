/**
 * The integrity check of a node's images, in the manner of restic check:
 * the catalog (every ref file readable), the block store's structure (packs
 * present and long enough, the index log as committed), every manifest
 * (present, hashing to its CID, well-formed, signed by a trusted publisher),
 * every referenced block present, and with `readData` every block read,
 * decoded and hashed against its CID. The report says what is damaged and
 * which versions it affects; nothing is changed (the daemon's repair drops
 * what is listed in `drop` and pulls the `affected` versions again).
 */
import type { CID } from 'multiformats/cid'
import { formatVersionRef, type ProgressEvent } from '@cachecloud/core'
import { type ImageManifest } from '@cachecloud/manifest'
import type { Blockstore } from '@cachecloud/blockstore'
import { decodeManifestFor, verifyManifest, type TrustStore } from '@cachecloud/manifest'
import type { Catalog, CatalogEntry } from './catalog.js'

export interface CheckInit {
  catalog: Catalog
  blockstore: Blockstore
  trust: TrustStore
  /** Read every block (or those `select` picks) and hash it. Default false: presence only. */
  readData?: boolean
  /** With readData: which blocks of the store to read (a subset). Default: all. */
  select?: (cid: CID) => boolean
  signal?: AbortSignal
  onProgress?: (event: ProgressEvent<'check:data'>) => void
}

/** One version as the check found it. */
export interface VersionCheck {
  ref: string
  /** Manifest CID. */
  cid: string
  state: 'complete' | 'pulling'
  /** The manifest's problem (missing, corrupt, malformed, bad signature, untrusted), or null. */
  manifest: string | null
  /** Distinct blocks referenced, not held (for a pulling version: not arrived yet). */
  missingBlocks: number
  /** Distinct blocks referenced that are held but unreadable (pack missing or short) or do not hash to their CID. */
  damagedBlocks: number
  /** The version cannot be exported as it is: a complete one lost data, or any version's manifest or held blocks are bad. */
  damaged: boolean
}

export interface CheckReport {
  /** Nothing damaged (versions still pulling are not damage). */
  ok: boolean
  /** One line per problem found. */
  problems: string[]
  catalog: { versions: number, damagedRefs: Array<{ ref: string, message: string }> }
  store: { packs: number, blocks: number, missingPacks: number[], unreadableBlocks: number, indexLog: string | null }
  /** With readData: what was read. */
  data: { blocks: number, storedBytes: number, rawBytes: number, corruptBlocks: number, missingBlocks: number, durationMs: number } | null
  versions: VersionCheck[]
  /** Refs of the damaged versions. */
  damaged: string[]
  /** Corrupt or unreadable blocks that no version references (personal data, or garbage for gc). */
  unreferencedDamagedBlocks: number
}

export interface CheckOutcome {
  report: CheckReport
  /** Blocks a repair drops: unreadable, corrupt, and the copies of damaged manifests. */
  drop: CID[]
  /** The damaged versions: a repair marks them incomplete and pulls them again. */
  affected: CatalogEntry[]
  /** Refs whose catalog entry is unreadable: a repair removes the ref file and pulls the version again. */
  damagedRefs: string[]
  /** The index log differs from what was committed: a repair rewrites it. */
  indexLogDamaged: boolean
}

export async function checkImages (init: CheckInit): Promise<CheckOutcome> {
  const { catalog, blockstore } = init
  const problems: string[] = []
  const { entries, damaged: damagedRefs } = await catalog.scan()
  for (const d of damagedRefs) problems.push(`catalog entry ${d.ref} is unreadable: ${d.message}`)
  const structure = await blockstore.checkStructure({ signal: init.signal })
  for (const id of structure.missingPacks) problems.push(`pack ${id.toString(16).padStart(8, '0')}.pack is missing from the block store`)
  if (structure.unreadable.length > 0) problems.push(`${structure.unreadable.length} block${structure.unreadable.length === 1 ? '' : 's'} indexed in missing or cut-short packs`)
  if (structure.indexLog !== null) problems.push(structure.indexLog)
  const bad = new Map<string, CID>(structure.unreadable.map(cid => [cid.toString(), cid]))

  // manifests: read and hash each first (a corrupt copy is reported, not dropped as get() would)
  const manifestCids = entries.map(e => e.cid).filter(cid => !bad.has(cid.toString()))
  const manifestRead = await blockstore.verify({ cids: manifestCids, signal: init.signal })
  for (const cid of manifestRead.corrupt) bad.set(cid.toString(), cid)
  const missingManifests = new Set(manifestRead.missing.map(String))

  const manifests = new Map<string, ImageManifest>()
  const versions: VersionCheck[] = []
  for (const entry of entries) {
    const ref = formatVersionRef(entry)
    const key = entry.cid.toString()
    let problem: string | null = null
    if (bad.has(key)) problem = 'manifest is damaged in the block store'
    else if (missingManifests.has(key)) problem = 'manifest is missing from the block store'
    else {
      try {
        const manifest = decodeManifestFor(entry.cid, await blockstore.get(entry.cid, { signal: init.signal }))
        if (manifest.name !== entry.name || manifest.version !== entry.version) throw new Error(`it names ${formatVersionRef(manifest)}`)
        verifyManifest(manifest, init.trust)
        manifests.set(ref, manifest)
      } catch (err) {
        problem = (err as Error).message
      }
    }
    versions.push({ ref, cid: key, state: entry.state, manifest: problem, missingBlocks: 0, damagedBlocks: 0, damaged: false })
  }

  let data: CheckReport['data'] = null
  if (init.readData === true) {
    const cids: CID[] = []
    for await (const cid of blockstore.cids({ signal: init.signal })) {
      if (!bad.has(cid.toString()) && (init.select === undefined || init.select(cid))) cids.push(cid)
    }
    const read = await blockstore.verify({ cids, signal: init.signal, onProgress: init.onProgress })
    for (const cid of read.corrupt) bad.set(cid.toString(), cid)
    data = {
      blocks: read.blocks,
      storedBytes: read.storedBytes,
      rawBytes: read.rawBytes,
      corruptBlocks: read.corrupt.length,
      missingBlocks: read.missing.length,
      durationMs: read.durationMs
    }
    if (read.corrupt.length > 0) problems.push(`${read.corrupt.length === 1 ? '1 block does' : `${read.corrupt.length} blocks do`} not hash to its CID (corrupt on disk)`)
  }

  const referenced = new Set<string>()
  const affected: CatalogEntry[] = []
  for (const [i, entry] of entries.entries()) {
    const v = versions[i]
    const manifest = manifests.get(v.ref)
    referenced.add(v.cid)
    if (manifest !== undefined) {
      const seen = new Set<string>()
      for (const cid of manifest.blocks) {
        if (cid === null) continue
        const key = cid.toString()
        if (seen.has(key)) continue
        seen.add(key)
        referenced.add(key)
        if (bad.has(key)) v.damagedBlocks++
        else if (!await blockstore.has(cid)) v.missingBlocks++
      }
    }
    v.damaged = v.manifest !== null || v.damagedBlocks > 0 || (entry.state === 'complete' && v.missingBlocks > 0)
    if (v.damaged) {
      affected.push(entry)
      const what = [v.manifest === null ? '' : `manifest: ${v.manifest}`, v.damagedBlocks > 0 ? `${v.damagedBlocks} damaged block${v.damagedBlocks === 1 ? '' : 's'}` : '', entry.state === 'complete' && v.missingBlocks > 0 ? `${v.missingBlocks} missing block${v.missingBlocks === 1 ? '' : 's'}` : '']
      problems.push(`${v.ref} is damaged: ${what.filter(w => w !== '').join(', ')}`)
    }
  }
  const unreferenced = [...bad.keys()].filter(key => !referenced.has(key)).length
  const report: CheckReport = {
    ok: problems.length === 0,
    problems,
    catalog: { versions: entries.length, damagedRefs: damagedRefs.map(d => ({ ref: d.ref, message: d.message })) },
    store: {
      packs: structure.packs,
      blocks: structure.blocks,
      missingPacks: structure.missingPacks,
      unreadableBlocks: structure.unreadable.length,
      indexLog: structure.indexLog
    },
    data,
    versions,
    damaged: versions.filter(v => v.damaged).map(v => v.ref),
    unreferencedDamagedBlocks: unreferenced
  }
  return { report, drop: [...bad.values()], affected, damagedRefs: damagedRefs.map(d => d.ref), indexLogDamaged: structure.indexLog !== null }
}
