import type { Command } from 'commander'
import type { OverlayInfo } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import { daemonClient, output } from '../context.js'
import { DaemonGoneError, isConnectionLost, UsageError } from '../errors.js'
import { count, formatBytes, table } from '../format.js'
import type { GlobalOptions } from '../paths.js'
import { createProgressRenderer } from '../progress.js'

/** Rows of the overlay tree: each version's overlays, clones indented under the overlay they were cloned from. */
export function overlayTree (list: OverlayInfo[]): string[][] {
  const rows: string[][] = []
  const byName = new Map(list.map(o => [o.name, o]))
  const visit = (o: OverlayInfo, depth: number): void => {
    const state = o.inUseBy !== null ? `in use by ${o.inUseBy}` : o.frozen ? 'frozen (base of clones)' : '-'
    rows.push([`${'  '.repeat(depth)}${depth > 0 ? '└ ' : ''}${o.name}`, o.ref, o.parent ?? '-', formatBytes(o.writtenBytes), state, o.createdAt])
    for (const c of o.clones) { const child = byName.get(c); if (child !== undefined && depth < 32) visit(child, depth + 1) }
  }
  for (const o of list) if (o.parent === null || !byName.has(o.parent)) visit(o, 0)
  return rows
}

/** `image commit|clone|rebase|overlays`: linked clones, from an overlay to the next version. */
export function registerCloneCommands (image: Command, globals: () => GlobalOptions): void {
  image.command('commit')
    .description('make a new signed version of an overlay\'s writes on top of its version (its parent); only written blocks are read and stored. The overlay must not be in use (exit 11); it is kept')
    .argument('<overlay>', 'overlay name (as `image overlays` lists it)')
    .requiredOption('--as <ref>', 'NAME@VERSION of the new version (must not exist)')
    .option('--publish', 'announce the new version to subscribers once committed')
    .action(async (overlay: string, opts: { as: string, publish?: boolean }) => {
      const g = globals()
      parseVersionRef(opts.as)
      const client = await daemonClient(g)
      const renderer = createProgressRenderer(`commit ${overlay} as ${opts.as}`, { json: g.json === true })
      let r
      try {
        r = await client.commitOverlay({ name: overlay, ref: opts.as, publish: opts.publish === true }, (e) => { renderer.update(e) })
      } catch (err) {
        // a commit cut short leaves no version (or a whole one) and the overlay as it was
        if (isConnectionLost(err)) throw new DaemonGoneError(`the CachePoint daemon went away during the commit: check with cachepoint image ls whether ${opts.as} exists; if not, commit again`, { cause: err })
        throw err
      } finally { renderer.stop() }
      output(g, r, () => [
        `committed overlay ${r.overlay} as ${r.ref} (${r.cid}), parent ${r.parent}`,
        `  ${count(r.writtenBlocks, 'written block')} of ${r.blocks}: ${r.newBlocks} new (${formatBytes(r.newBytes)}), ${r.dedupedBlocks} already held, ${count(r.holes, 'hole')}`,
        `  ${(r.durationMs / 1000).toFixed(1)}s${r.published ? ', published' : ''}`
      ].join('\n'))
    })

  image.command('clone')
    .description('a clone of an overlay\'s current state (clone of a clone): the source becomes a frozen shared layer, the clone starts with no writes of its own')
    .argument('<from>', 'overlay to clone (must not be in use)')
    .argument('<name>', 'name of the new overlay; serve it with: cachepoint image serve NAME@VERSION --writable NAME')
    .action(async (from: string, name: string) => {
      const g = globals()
      const o = await (await daemonClient(g)).cloneOverlay({ from, name })
      output(g, o, () => `cloned overlay ${from} as ${o.name} over ${o.ref} (${from} is frozen now; serve ${o.name} with: cachepoint image serve ${o.ref} --writable ${o.name})`)
    })

  image.command('rebase')
    .description('move an overlay (not in use, not the base of clones) to another version, dropping its writes: the user\'s files live in the personal folder')
    .argument('<overlay>', 'overlay name')
    .argument('<ref>', 'NAME@VERSION to move it onto')
    .option('--discard-writes', 'required: the overlay\'s writes are dropped')
    .action(async (overlay: string, ref: string, opts: { discardWrites?: boolean }) => {
      const g = globals()
      parseVersionRef(ref)
      if (opts.discardWrites !== true) throw new UsageError('image rebase drops the overlay\'s writes: say so with --discard-writes')
      const o = await (await daemonClient(g)).rebaseOverlay({ name: overlay, ref, discardWrites: true })
      output(g, o, () => `rebased overlay ${o.name} on ${o.ref} (writes dropped)`)
    })

  image.command('overlays')
    .description('copy-on-write overlays as a tree: each version\'s overlays, clones under the overlay they were cloned from, bytes each wrote')
    .action(async () => {
      const g = globals()
      const list = await (await daemonClient(g)).overlays()
      output(g, list, () => list.length === 0 ? 'no overlays' : table(['OVERLAY', 'IMAGE', 'PARENT', 'WRITTEN', 'STATE', 'CREATED'], overlayTree(list)))
    })
}
