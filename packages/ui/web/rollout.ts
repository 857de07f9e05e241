import type { RolloutInfo } from '@cachecloud/control'
import { byId, el } from './dom.js'

/** How often the page asks for the rollout (nodes report once a minute; this keeps the page within seconds of what arrived). */
export const ROLLOUT_POLL_MS = 10_000

const siteName = (site: string): string => site === '' ? '(no site label)' : site
const shortPeer = (peer: string): string => `…${peer.slice(-8)}`

/** The pulling and offline nodes of a site, in a line: who to look at. */
function notable (nodes: RolloutInfo['sites'][number]['nodes']): string {
  return nodes.filter(n => n.state === 'pulling' || n.state === 'offline').map(n => n.state === 'pulling'
    ? `${shortPeer(n.peer)} ${n.percent ?? 0}%`
    : `${shortPeer(n.peer)} offline since ${new Date(n.lastSeen).toLocaleString()}`).join(' · ')
}

function rolloutTable (r: RolloutInfo): HTMLElement {
  const t = r.totals
  const heard = t.complete + t.pulling + t.notStarted + t.offline
  const summary = heard === 0
    ? `${r.ref}: no node has reported yet (nodes report every ${r.reportIntervalSeconds} s).`
    : `${r.ref}: ${t.complete} of ${heard} ${heard === 1 ? 'node' : 'nodes'} complete, ${t.pulling} pulling, ${t.notStarted} not started, ${t.offline} offline.`
  const head = el('tr', {}, ...['Site', 'Complete', 'Pulling', 'Not started', 'Offline', 'Nodes to watch'].map(h => el('th', { text: h, attrs: { scope: 'col' } })))
  const rows = r.sites.map(s => el('tr', { attrs: { 'data-site': s.site, 'data-complete': String(s.complete), 'data-pulling': String(s.pulling), 'data-not-started': String(s.notStarted), 'data-offline': String(s.offline) } },
    el('th', { text: siteName(s.site), attrs: { scope: 'row' } }),
    el('td', { className: 'num', text: String(s.complete) }),
    el('td', { className: 'num', text: String(s.pulling) }),
    el('td', { className: 'num', text: String(s.notStarted) }),
    el('td', { className: 'num', text: String(s.offline) }),
    el('td', { className: 'nodes', text: notable(s.nodes) })))
  return el('div', { className: 'rollout', attrs: { 'data-ref': r.ref, 'data-complete': String(t.complete) } },
    el('p', { text: summary }),
    el('div', { className: 'table-wrap' }, el('table', {}, el('thead', {}, head), el('tbody', {}, ...rows))))
}

/** The rollout panel: shown only on a node that collects reports (a publisher). */
export function renderRollouts (rollouts: RolloutInfo[]): void {
  byId('rollout-section').hidden = rollouts.length === 0
  byId('rollouts').replaceChildren(...rollouts.map(rolloutTable))
}
