import type { ExportInfo, PersonalStatusInfo, SwarmPullInfo, SwarmStatusInfo } from '@cachecloud/control'
import { formatBytes, formatDuration, formatPercent, formatRate } from '../src/format.js'
import { byId, el } from './dom.js'

const shortPeer = (peer: string): string => `…${peer.slice(-8)}`

/** One swarm pull: a bar with its figures, LAN vs WAN bytes, and bytes from each peer with its site. */
function swarmPull (p: SwarmPullInfo): HTMLElement {
  const percent = p.bytesTotal > 0 ? Math.floor(100 * p.bytesDone / p.bytesTotal) : 0
  const figures = [`${formatPercent(p.bytesDone, p.bytesTotal)}`, `${p.blocksDone} of ${p.blocksTotal} blocks`, `${formatBytes(p.bytesDone)} of ${formatBytes(p.bytesTotal)}`]
  if (p.state === 'pulling') figures.push(formatRate(p.rate), `ETA ${formatDuration(p.etaSeconds)}`)
  else figures.push(p.state === 'failed' ? `failed: ${p.error ?? 'unknown error'} (retrying)` : p.state === 'paused' ? 'paused: continues on resume' : p.state)
  const peers = [...p.peers].sort((a, b) => b.bytes - a.bytes).map(x => el('li', { attrs: { 'data-peer': x.peer } },
    el('strong', { text: x.lan ? 'LAN' : 'WAN' }), ` ${formatBytes(x.bytes)} from peer ${shortPeer(x.peer)}`,
    el('span', { className: 'addr', text: x.site === '' ? 'no site label' : `site ${x.site}` })))
  return el('div', { className: 'swarm-pull', attrs: { 'data-ref': p.ref, 'data-state': p.state } },
    el('h3', { text: p.ref }),
    el('progress', { attrs: { max: '100', value: String(percent), 'aria-label': `${p.ref}: ${percent}% pulled from the swarm` } }),
    el('span', { className: 'figures', text: figures.join(' · '), attrs: { 'data-done': String(p.bytesDone), 'data-total': String(p.bytesTotal) } }),
    el('p', { className: 'lan-wan', text: `From this site (LAN): ${formatBytes(p.lanBytes)} · over the WAN: ${formatBytes(p.wanBytes)}`, attrs: { 'data-lan': String(p.lanBytes), 'data-wan': String(p.wanBytes) } }),
    el('ul', { className: 'peers' }, ...peers))
}

export function renderSwarm (swarm: SwarmStatusInfo): void {
  const site = swarm.site === '' ? 'no site label' : `site ${swarm.site}`
  const subs = swarm.subscriptions.length === 0
    ? 'no subscriptions'
    : `subscribed to ${swarm.subscriptions.map(s => `${s.name} (${s.policy === 'auto' ? 'pulls new versions' : 'manual'})`).join(', ')}`
  byId('swarm-summary').textContent = `This node: ${site}, ${subs}.${swarm.pulls.length === 0 ? ' No swarm pull since the CachePoint started.' : ''}`
  // newest first: the pull running now on top
  byId('swarm-pulls').replaceChildren(...[...swarm.pulls].reverse().map(swarmPull))
}

function personalItem (p: PersonalStatusInfo): HTMLElement {
  const waiting = p.pendingSnapshots === 0
    ? 'every snapshot is in the data center'
    : `${p.pendingSnapshots} ${p.pendingSnapshots === 1 ? 'snapshot' : 'snapshots'} (${formatBytes(p.pendingBytes)}) waiting for the data center`
  const last = p.lastSnapshot === null ? 'no snapshot yet' : `last snapshot ${new Date(p.lastSnapshot).toLocaleString()}`
  return el('li', { attrs: { 'data-user': p.user, 'data-pending': String(p.pendingSnapshots) } },
    el('strong', { text: p.user }), ` ${p.snapshots} ${p.snapshots === 1 ? 'snapshot' : 'snapshots'}, ${last}; ${waiting}`,
    el('span', { className: 'addr', text: p.lastError === null ? p.folder : `${p.folder} · last error: ${p.lastError}` }))
}

export function renderPersonal (personal: PersonalStatusInfo[]): void {
  const pending = personal.reduce((sum, p) => sum + p.pendingSnapshots, 0)
  byId('personal-summary').textContent = personal.length === 0
    ? 'No personal folder is versioned on this node.'
    : `${personal.length} ${personal.length === 1 ? 'folder' : 'folders'} versioned here; ${pending === 0 ? 'nothing waits for the data center' : `${pending} waiting for the data center`}.`
  byId('personal').replaceChildren(...personal.map(personalItem))
}

/** One export: where clients connect, reads served locally vs on demand with their latency, the background pull. */
function exportItem (e: ExportInfo): HTMLElement {
  const r = e.reads
  const latency = r.onDemandLatencyMs === null ? '' : ` (p50 ${Math.round(r.onDemandLatencyMs.p50)} ms, p95 ${Math.round(r.onDemandLatencyMs.p95)} ms)`
  const b = e.background
  const background = b.state === 'complete'
    ? 'every block is here: reads are local'
    : b.state === 'off'
      ? 'no background pull: only what is read is fetched'
      : `background pull ${b.state}: ${formatPercent(b.bytesDone, b.bytesTotal)} of ${formatBytes(b.bytesTotal)}` + (b.state === 'pulling' ? ` · ${formatRate(b.rate)} · ETA ${formatDuration(b.etaSeconds)}` : '')
  return el('li', { attrs: { 'data-export': e.id, 'data-ref': e.ref, 'data-on-demand': String(r.onDemandReads), 'data-fetched': String(r.fetchedBytes) } },
    el('strong', { text: e.ref }), ` at ${e.uri}${e.writable ? ` (writable, overlay ${e.overlay ?? ''})` : ' (read-only)'}, ${e.clients} ${e.clients === 1 ? 'client' : 'clients'}`,
    el('span', { className: 'figures', text: `${r.reads} reads, ${r.onDemandReads} on demand${latency}, ${formatBytes(r.fetchedBytes)} fetched from peers${r.failedReads > 0 ? `, ${r.failedReads} failed` : ''}` }),
    el('span', { className: 'addr', text: background }))
}

export function renderExports (exports: ExportInfo[]): void {
  byId('exports-summary').textContent = exports.length === 0
    ? 'No image served as a disk (cachepoint image serve NAME@VERSION --nbd 127.0.0.1:PORT).'
    : `${exports.length === 1 ? '1 version served as a disk' : `${exports.length} versions served as disks`}; blocks not here yet are fetched from peers when read.`
  byId('exports').replaceChildren(...exports.map(exportItem))
}
