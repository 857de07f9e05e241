/** Start-up recovery after a crash; the argument is in commits.ts. */
import fs from 'node:fs/promises'
import { join } from 'node:path'
import { bytesMatchCid } from '@cachecloud/core'
import { DIRTY_CLOCK_SLACK_MS, MAX_BLOCK_BYTES } from './constants.js'
import type { Commits } from './commits.js'
import { cidOfKey, SHARD_NAMES, type Layout } from './layout.js'
import { isNotFound } from './fs-util.js'

export interface RecoveryResult {
  /** Block files re-hashed because they were written after the last commit. */
  checked: number
  /** Of those, files deleted because their bytes did not match their CID. */
  removed: number
}

/** Removes temp files; if the dirty marker is present, re-verifies uncommitted blocks and commits. */
export async function recover (layout: Layout, commits: Commits): Promise<RecoveryResult> {
  await removeTempFiles(layout)
  const since = await commits.readMarker()
  const result = { checked: 0, removed: 0 }
  if (since === undefined) return result
  commits.adoptMarker()
  const threshold = since - DIRTY_CLOCK_SLACK_MS
  for (const shard of SHARD_NAMES) {
    const dir = layout.shardDir(shard)
    let names: string[]
    try {
      names = await fs.readdir(dir)
    } catch (err) {
      if (isNotFound(err)) continue
      throw err
    }
    for (const name of names) {
      const cid = cidOfKey(name, shard)
      if (cid === undefined) continue
      const path = join(dir, name)
      const stat = await fs.stat(path)
      if (stat.mtimeMs < threshold) continue
      result.checked++
      const good = stat.size <= MAX_BLOCK_BYTES && bytesMatchCid(cid, await fs.readFile(path))
      if (good) {
        commits.written(path)
      } else {
        await fs.rm(path, { force: true })
        commits.removed(path)
        result.removed++
      }
    }
  }
  await commits.sync()
  return result
}

async function removeTempFiles (layout: Layout): Promise<void> {
  const names = await fs.readdir(layout.tmp)
  for (const name of names) await fs.rm(join(layout.tmp, name), { force: true, recursive: true })
}
