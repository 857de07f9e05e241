import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Per block (CID), how many times nodes of one site stored it from a peer of another site. */
export type WanFetches = Map<string, number>

/**
 * Reads the per-block WAN lines ('stored block from another site', debug level) that a
 * node's swarm pull logs, from its log file (daemon.out for a daemon, node.log for a runner).
 * The file is appended across restarts, so a node killed mid-pull counts both runs.
 */
export async function readWanFetches (dataDir: string, kind: 'daemon' | 'runner' | 'observer', ref: string): Promise<string[]> {
  const text = await readFile(join(dataDir, kind === 'daemon' ? 'daemon.out' : 'node.log'), 'utf8').catch(() => '')
  const cids: string[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"wanBlock"')) continue
    try {
      const rec = JSON.parse(line) as { wanBlock?: string, ref?: string }
      if (rec.ref === ref && typeof rec.wanBlock === 'string') cids.push(rec.wanBlock)
    } catch { /* a line torn by SIGKILL */ }
  }
  return cids
}

/** Counts per block over the logs of a site's nodes. */
export function countFetches (lists: string[][]): WanFetches {
  const counts: WanFetches = new Map()
  for (const list of lists) for (const cid of list) counts.set(cid, (counts.get(cid) ?? 0) + 1)
  return counts
}

/** Blocks stored from the WAN more than once in the site, and the extra fetches. */
export function duplicates (counts: WanFetches): { blocks: number, extra: number } {
  let blocks = 0
  let extra = 0
  for (const n of counts.values()) if (n > 1) { blocks++; extra += n - 1 }
  return { blocks, extra }
}
