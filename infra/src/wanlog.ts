import { readFile } from 'node:fs/promises'
import { join } from 'node:path'

/** Per block (CID), how many times nodes of one site stored it from a peer of another site. */
export type WanFetches = Map<string, number>

/** One 'stored block from another site' line: the block, when, by which process (a restarted node has two) and from which peer. */
export interface WanFetch { cid: string, at: number, pid: number, peer: string }

/**
 * Reads the per-block WAN lines ('stored block from another site', debug level) that a
 * node's swarm pull logs, from its log file (daemon.out for a daemon, node.log for a runner).
 * The file is appended across restarts, so a node killed mid-pull counts both runs.
 */
export async function readWanFetches (dataDir: string, kind: 'daemon' | 'runner' | 'observer', ref: string): Promise<WanFetch[]> {
  const text = await readFile(join(dataDir, kind === 'daemon' ? 'daemon.out' : 'node.log'), 'utf8').catch(() => '')
  const fetches: WanFetch[] = []
  for (const line of text.split('\n')) {
    if (!line.includes('"wanBlock"')) continue
    try {
      const rec = JSON.parse(line) as { wanBlock?: string, ref?: string, time?: number, pid?: number, peer?: string }
      if (rec.ref === ref && typeof rec.wanBlock === 'string') fetches.push({ cid: rec.wanBlock, at: rec.time ?? 0, pid: rec.pid ?? 0, peer: rec.peer ?? '' })
    } catch { /* a line torn by SIGKILL */ }
  }
  return fetches
}

/** Counts per block over the logs of a site's nodes. */
export function countFetches (lists: WanFetch[][]): WanFetches {
  const counts: WanFetches = new Map()
  for (const list of lists) for (const { cid } of list) counts.set(cid, (counts.get(cid) ?? 0) + 1)
  return counts
}

/** Blocks stored from the WAN more than once in the site, and the extra fetches. */
export function duplicates (counts: WanFetches): { blocks: number, extra: number } {
  let blocks = 0
  let extra = 0
  for (const n of counts.values()) if (n > 1) { blocks++; extra += n - 1 }
  return { blocks, extra }
}

/** A block stored from the WAN more than once in a site: the nodes that stored it, and one line saying who, when and from whom. */
export interface DuplicateFetch { nodes: string[], line: string }

/**
 * The blocks stored from the WAN more than once in the site (`counts`: countFetches of `byNode`): who stored each, when (s after `since`), in
 * which run of the node and from which peer, so that a run says which case it was (a killed node's two
 * runs, a cut laptop, two members that did not count each other).
 */
export function duplicateFetches (byNode: Array<{ node: string, fetches: WanFetch[] }>, counts: WanFetches, since: number): DuplicateFetch[] {
  const found: DuplicateFetch[] = []
  for (const [cid, n] of counts) {
    if (n < 2) continue
    const who = byNode.flatMap(({ node, fetches }) => {
      const runs = [...new Set(fetches.map(f => f.pid))]
      return fetches.filter(f => f.cid === cid).map(f => ({ ...f, node, run: runs.indexOf(f.pid) + 1 }))
    }).sort((a, b) => a.at - b.at)
    const line = `…${cid.slice(-12)}: ${who.map(w => `${w.node} (run ${w.run}) at ${((w.at - since) / 1000).toFixed(1)} s from …${w.peer.slice(-6)}`).join(', ')}`
    found.push({ nodes: [...new Set(who.map(w => w.node))], line })
  }
  return found
}
