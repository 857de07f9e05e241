import type { Command } from 'commander'
import type { ExportInfo } from '@cachecloud/control'
import { parseVersionRef } from '@cachecloud/core'
import { daemonClient, output } from '../context.js'
import { UsageError } from '../errors.js'
import { formatBytes, formatDuration, formatRate, table } from '../format.js'
import type { GlobalOptions } from '../paths.js'

/** `--nbd` value: PORT, HOST:PORT or [IPV6]:PORT. */
export function parseNbdAddress (text: string): { host: string, port: number } {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]:|([0-9.]+):)?(\d{1,5})$/.exec(text.trim())
  const port = m === null ? NaN : Number(m[3])
  if (m === null || port > 65535) throw new UsageError(`--nbd ${text}: expected PORT, HOST:PORT or [IPV6]:PORT (e.g. 127.0.0.1:10809)`)
  return { host: m[1] ?? m[2] ?? '127.0.0.1', port }
}

function pct (done: number, total: number): string { return total === 0 ? '-' : `${Math.floor(100 * done / total)}%` }

function backgroundText (e: ExportInfo): string {
  const b = e.background
  if (b.state === 'complete') return 'complete (all reads local)'
  if (b.state === 'off') return 'off (only blocks read are fetched)'
  if (b.state === 'failed') return `failed: ${b.error ?? ''} (retrying)`
  if (b.state === 'resolving') return 'starting'
  return `${pct(b.bytesDone, b.bytesTotal)} of ${formatBytes(b.bytesTotal)} missing at start, ${formatRate(b.rate)}, ETA ${formatDuration(b.etaSeconds)}`
}

function latencyText (e: ExportInfo): string {
  const l = e.reads.onDemandLatencyMs
  return l === null ? '-' : `p50 ${l.p50.toFixed(1)} ms, p95 ${l.p95.toFixed(1)} ms, max ${l.max.toFixed(0)} ms`
}

/** Status lines of NBD exports: reads local and on demand, on-demand latency, background pull. */
export function exportLines (exports: ExportInfo[]): string[] {
  if (exports.length === 0) return []
  return ['', 'NBD exports:', table(['EXPORT', 'IMAGE', 'MODE', 'CLIENTS', 'READS', 'ON DEMAND', 'LATENCY (ON DEMAND)', 'FAILED', 'BACKGROUND PULL'], exports.map(e => [
    e.uri, e.ref, e.pool !== null ? `pool of ${e.pool.count} (${e.pool.prefix}-N)` : e.writable ? `overlay ${e.overlay ?? ''}` : e.overlay !== null ? `read-only, frozen overlay ${e.overlay}` : 'read-only', String(e.clients),
    `${e.reads.reads} (${formatBytes(e.reads.readBytes)})`, `${e.reads.onDemandReads} reads, ${formatBytes(e.reads.fetchedBytes)}`,
    latencyText(e), String(e.reads.failedReads), backgroundText(e)
  ]))]
}

/** `image serve|exports|unserve|overlays|discard-overlay`: a version as an NBD disk before it has arrived. */
export function registerServeCommands (image: Command, globals: () => GlobalOptions): void {
  image.command('serve')
    .description('serve a version as an NBD export now: blocks not yet here are fetched from peers when read, the rest is pulled in the background')
    .argument('<ref>', 'NAME@VERSION (held, pulling, or offered by a peer)')
    .option('--nbd <address>', 'serve on TCP at PORT or HOST:PORT instead of the default Unix socket (mode 0600, in the data directory); NBD has no authentication, so anyone who reaches the port can read the disk')
    .option('--writable <overlay>', 'writable export: writes go to this copy-on-write overlay (created if missing, kept after unserve); with --pool, the prefix of the pool\'s overlays')
    .option('--pool <n>', 'serve N writable exports PREFIX-1 ... PREFIX-N (with --writable PREFIX) on one listener, an overlay each, one shared read cache')
    .option('--no-pull', 'do not pull the rest of the version in the background: fetch only what is read')
    .option('--timeout <seconds>', 'a read whose blocks no peer delivers in this time fails with an I/O error', '10')
    .action(async (ref: string, opts: { nbd?: string, writable?: string, pool?: string, pull: boolean, timeout: string }) => {
      const g = globals()
      parseVersionRef(ref)
      const address = opts.nbd === undefined ? {} : parseNbdAddress(opts.nbd)
      const timeout = Number(opts.timeout)
      if (!(timeout > 0) || timeout > 3600) throw new UsageError(`--timeout ${opts.timeout}: expected seconds, more than 0 and at most 3600`)
      const n = opts.pool === undefined ? undefined : Number(opts.pool)
      if (n !== undefined && (!Number.isInteger(n) || n < 1 || n > 1000)) throw new UsageError(`--pool ${opts.pool ?? ''}: expected a whole number from 1 to 1000`)
      if (n !== undefined && opts.writable === undefined) throw new UsageError('--pool N needs --writable PREFIX (the pool\'s overlays are PREFIX-1 ... PREFIX-N)')
      const target = n === undefined ? { overlay: opts.writable } : { pool: { count: n, prefix: opts.writable as string } }
      const e = await (await daemonClient(g)).serve({ ref, ...address, ...target, pull: opts.pull, fetchTimeoutMs: Math.round(timeout * 1000) })
      const stopId = e.socket === null ? e.id : e.socket.slice(e.socket.lastIndexOf('/') + 1)
      output(g, e, () => [
        `serving ${e.ref} (${formatBytes(e.size)}) at ${e.uri} (${e.pool !== null ? `pool of ${e.pool.count} writable exports` : e.writable ? `writable, overlay ${e.overlay ?? ''}` : e.overlay !== null ? `read-only: overlay ${e.overlay} is frozen, the base of clones` : 'read-only'}${e.socket === null ? '' : ', only this user may connect'})`,
        ...(e.pool === null ? [] : [`  pool of ${e.pool.count} writable exports, ready in ${e.pool.readyMs.toFixed(0)} ms:`, ...e.pool.members.map(m => `    ${m.name}: ${m.uri}`)]),
        `  background pull: ${backgroundText(e)}`,
        `  e.g. qemu-img convert -f raw '${e.pool?.members[0]?.uri ?? e.uri}' out.raw; stop with: cachepoint image unserve ${stopId}`
      ].join('\n'))
    })

  image.command('exports')
    .description('NBD exports served by this node: reads local and on demand, latency, background pull')
    .action(async () => {
      const g = globals()
      const list = await (await daemonClient(g)).exports()
      output(g, list, () => list.length === 0 ? 'no exports (start one with: cachepoint image serve NAME@VERSION)' : exportLines(list).slice(2).join('\n'))
    })

  image.command('unserve')
    .description('stop an NBD export (its clients are disconnected; an overlay is flushed and kept)')
    .argument('<export>', 'HOST:PORT, PORT, or the socket file\'s name or path, as `image exports` lists it')
    .action(async (id: string) => {
      const g = globals()
      const e = await (await daemonClient(g)).unserve(id)
      output(g, e, () => `stopped ${e.uri} (${e.ref}): ${e.reads.reads} reads, ${formatBytes(e.reads.fetchedBytes)} fetched on demand`)
    })

  image.command('discard-overlay')
    .description('delete an overlay and the writes it holds (it must not be in use)')
    .argument('<name>', 'overlay name')
    .action(async (name: string) => {
      const g = globals()
      const o = await (await daemonClient(g)).discardOverlay(name)
      output(g, o, () => `discarded overlay ${o.name} of ${o.ref} (${formatBytes(o.writtenBytes)} of writes)`)
    })
}
