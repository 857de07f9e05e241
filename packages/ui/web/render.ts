import type { ImageVersionInfo, PeerInfo, StatusInfo } from '@cachecloud/control'
import { formatBytes, formatDuration, formatPercent, formatRate } from '../src/format.js'
import { pullProgress, type NodeSummary, type PullFailure, type PullProgress as Progress } from '../src/summary.js'
import { byId, el } from './dom.js'
import { renderExports, renderPersonal, renderSwarm } from './panels.js'

const refOf = (v: { name: string, version: string }): string => `${v.name}@${v.version}`

/** A progress bar always with its numbers beside it: percent, bytes, and for a running pull rate and ETA. */
function progressCell (ref: string, job: Progress): HTMLElement {
  const percent = job.total > 0 ? Math.floor(100 * job.done / job.total) : 0
  const bar = el('progress', { attrs: { max: '100', value: String(percent), 'aria-label': `${ref}: ${percent}% pulled` } })
  const parts = [formatPercent(job.done, job.total), `${formatBytes(job.done)} of ${formatBytes(job.total)}`]
  if (job.state === 'running') parts.push(formatRate(job.rate), `ETA ${formatDuration(job.etaSeconds)}`)
  if (job.state === 'paused') parts.push('paused')
  const figures = el('span', { className: 'figures', text: parts.join(' · '), attrs: { 'data-done': String(job.done), 'data-total': String(job.total) } })
  return el('td', { className: 'progress' }, bar, figures)
}

function versionRow (v: ImageVersionInfo | undefined, ref: string, job: Progress | undefined): HTMLTableRowElement {
  let badge: HTMLElement
  let progress: HTMLElement
  if (v?.state === 'complete') {
    badge = el('span', { className: 'badge complete', text: 'complete' })
    progress = el('td', { className: 'progress muted', text: 'ready' })
  } else if (job?.state === 'running' || job?.state === 'paused') {
    badge = el('span', { className: `badge ${job.state === 'running' ? 'pulling' : 'paused'}`, text: job.state === 'running' ? 'pulling' : 'paused' })
    progress = progressCell(ref, job)
  } else if (job?.state === 'failed') {
    badge = el('span', { className: 'badge failed', text: 'failed' })
    progress = el('td', { className: 'progress', text: `failed: ${job.error?.message ?? 'unknown error'} (${job.retry ?? 'sync now retries'})` })
  } else {
    badge = el('span', { className: 'badge waiting', text: 'waiting' })
    progress = el('td', { className: 'progress muted', text: 'waiting: sync now continues it from the blocks already stored' })
  }
  return el('tr', { attrs: { 'data-ref': ref, 'data-state': v?.state ?? 'starting' } },
    el('th', { text: ref, attrs: { scope: 'row' } }),
    el('td', {}, badge),
    progress,
    el('td', { text: v === undefined ? '' : formatBytes(v.size) }))
}

/** What the header shows: a node state, or `signed-out` when the page has no session (its key is missing or stale). */
export type PageState = NodeSummary['state'] | 'signed-out'

export function renderStatus (status: StatusInfo | undefined, summary: { state: PageState, text: string }, explanation?: string): void {
  const state = byId('state')
  state.dataset.state = summary.state
  state.textContent = explanation === undefined ? summary.text : `${summary.text}: ${explanation}`
  document.title = `CachePoint: ${summary.text}`
  byId<HTMLButtonElement>('pause').disabled = status === undefined || status.paused
  byId<HTMLButtonElement>('resume').disabled = status === undefined || !status.paused
  byId<HTMLButtonElement>('sync').disabled = status === undefined || status.paused
  if (status === undefined) return

  byId('peer-id').textContent = `peer ${status.peerId}`
  const jobs = pullProgress(status)
  const rows: HTMLTableRowElement[] = []
  const shown = new Set<string>()
  for (const v of status.versions) {
    const ref = refOf(v)
    shown.add(ref)
    rows.push(versionRow(v, ref, jobs.get(ref)))
  }
  // a pull that has not yet recorded its version (asking peers, fetching the manifest)
  for (const [ref, job] of jobs) if (!shown.has(ref) && job.state === 'running') rows.push(versionRow(undefined, ref, job))
  byId('images').querySelector('tbody')?.replaceChildren(...rows)
  byId('images-empty').hidden = rows.length > 0

  byId('peers-summary').textContent = status.peersConfigured === 0
    ? `No peers configured; ${status.connections} connections.`
    : `${status.peersReachable} of ${status.peersConfigured} configured peers reachable (${status.online ? 'online' : 'offline'}); ${status.connections} connections.`
  renderSwarm(status.swarm)
  renderPersonal(status.personal)
  renderExports(status.exports)
  byId('store').textContent = `${status.store.blocks} blocks, ${formatBytes(status.store.physicalBytes)} of blocks in ${formatBytes(status.store.storedBytes)} on disk for ${formatBytes(status.store.logicalBytes)} of images; ${status.pending} ${status.pending === 1 ? 'version' : 'versions'} pending.`
}

const ROLE_LABEL: Record<PeerInfo['role'], string> = { store: 'data-center store', cachepoint: 'CachePoint', unknown: 'peer' }

/** A peer id cut with an ellipsis where its cell ends; the whole id in its title (and selectable). */
const peerIdText = (peerId: string): HTMLElement => el('span', { className: 'peer-id', text: peerId, attrs: { title: peerId } })

function peerItem (p: PeerInfo): HTMLElement {
  const how = `${p.connected ? 'connected' : 'not connected'}, ${p.configured ? 'configured' : 'met'}${p.site === undefined ? '' : `, site ${p.site}`}`
  return el('li', { attrs: { 'data-peer': p.peerId, 'data-role': p.role } },
    el('span', { className: 'peer-head' }, el('strong', { text: ROLE_LABEL[p.role] }), ' ', peerIdText(p.peerId)),
    el('span', { className: 'how', text: how }),
    el('ul', { className: 'addrs' }, ...p.addresses.map(a => el('li', { className: 'addr', text: a, attrs: { title: a } }))))
}

export function renderPeers (peers: PeerInfo[]): void {
  // CachePoints first, then the store, then what identify has not told yet
  const order: Record<PeerInfo['role'], number> = { cachepoint: 0, store: 1, unknown: 2 }
  byId('peers').replaceChildren(...[...peers].sort((a, b) => order[a.role] - order[b.role]).map(peerItem))
}

/** The failed pull behind the `error` state, with a Dismiss button (a later success of its ref removes it by itself). */
export function renderFailure (failure: PullFailure | undefined, dismiss: (id: string) => void): void {
  const box = byId('failure')
  if (failure === undefined) { box.hidden = true; box.replaceChildren(); delete box.dataset.failure; delete box.dataset.failedRef; return }
  if (box.dataset.failure === failure.id && !box.hidden) return
  const button = el('button', { text: 'Dismiss', attrs: { type: 'button', 'aria-label': `Dismiss the failure of ${failure.ref}` } })
  button.addEventListener('click', () => { dismiss(failure.id) })
  box.dataset.failure = failure.id
  box.dataset.failedRef = failure.ref
  box.replaceChildren(el('p', {}, el('strong', { text: `Pull of ${failure.ref} failed` }),
    ` ${failure.message} (${new Date(failure.at).toLocaleString()}). A later successful pull of ${failure.ref} clears this.`), button)
  box.hidden = false
}

export function showNotice (title: string, body: string, bad: boolean): void {
  const box = byId('notices')
  const dismiss = el('button', { text: 'Dismiss', attrs: { type: 'button', 'aria-label': `Dismiss: ${title}` } })
  const notice = el('div', { className: bad ? 'notice bad' : 'notice', attrs: { role: bad ? 'alert' : 'status' } },
    el('p', {}, el('strong', { text: title }), ` ${body}`), dismiss)
  dismiss.addEventListener('click', () => { notice.remove() })
  box.prepend(notice)
  while (box.children.length > 4) box.lastElementChild?.remove()
}
