/**
 * The status page. It talks to the daemon only through the control API,
 * through the UI server's proxy (packages/ui/src/server.ts explains the
 * session): live status from GET /v1/events, actions by POST.
 */
import type { PeerInfo, RolloutInfo, StatusInfo } from '@cachecloud/control'
import { LAUNCH_KEY_PARAM, SESSION_PATH } from '../src/constants.js'
import { noticesBetween, summarize } from '../src/summary.js'
import { byId } from './dom.js'
import { dismissed, dismiss } from './dismissed.js'
import { renderFailure, renderPeers, renderStatus, showNotice, type PageState } from './render.js'
import { renderSignIn, type Unreachable } from './signin.js'
import { renderRollouts, ROLLOUT_POLL_MS } from './rollout.js'

const RECONNECT_MS = 2000
const PEER_RETRIES = 5
/** The URL had a key that the page server refused (from an earlier run of cachepoint ui, or cut short). */
let staleKey = false
let last: StatusInfo | undefined
let peersKey = ''

/** The header when there is no status: the page not signed in, the daemon down, or the page server gone. */
function headerWithout (why: Unreachable | undefined): { state: PageState, text: string } {
  if (why?.kind === 'signed-out') return { state: 'signed-out', text: 'Not signed in' }
  if (why?.kind === 'page-server-gone') return { state: 'down', text: 'Status page server not answering' }
  return summarize(undefined)
}

/** Fetches the rollout of the versions this node published (an empty list hides the panel). */
function loadRollouts (): void {
  if (last === undefined) return
  void fetch('/v1/images/rollout').then(async r => r.ok ? await r.json() as RolloutInfo[] : []).then(renderRollouts, () => {})
}

/** Fetches the peer list; again shortly while a connected peer is not identified yet (its role comes with identify). */
function loadPeers (attempt = 0): void {
  void fetch('/v1/peers').then(async r => r.ok ? await r.json() as PeerInfo[] : []).then((peers) => {
    renderPeers(peers)
    if (attempt < PEER_RETRIES && peers.some(p => p.connected && p.role === 'unknown')) setTimeout(() => { loadPeers(attempt + 1) }, RECONNECT_MS)
  }, () => {})
}

function update (status: StatusInfo | undefined, why?: Unreachable): void {
  // a failed pull shows in the failure banner (renderFailure), which stays until dismissed or superseded
  for (const notice of noticesBetween(last, status)) if (notice.kind === 'version-ready') showNotice(notice.title, notice.body, false)
  if (status !== undefined) last = status
  renderSignIn(status === undefined ? why : undefined)
  const summary = status === undefined ? undefined : summarize(status, { dismissed: dismissed() })
  renderStatus(status, summary ?? headerWithout(why), why?.message)
  renderFailure(summary?.failure, (id) => { dismiss(id); update(last) })
  // the peer list is fetched again only when what it shows may have changed
  const key = status === undefined ? '' : `${status.connections}/${status.peersReachable}`
  if (status !== undefined && key !== peersKey) {
    peersKey = key
    loadPeers()
    loadRollouts()
  }
}

/** Why the event stream closed: no session (401), the daemon down (503), or the page server gone. */
async function explainFailure (): Promise<Unreachable> {
  try {
    const response = await fetch('/v1/status')
    if (response.ok) return { kind: 'down', message: 'reconnecting' }
    const body = await response.json() as { error?: { code?: string, message?: string } }
    const message = body.error?.message ?? `HTTP ${response.status}`
    if (response.status === 401) return { kind: 'signed-out', message: staleKey ? 'the key in the URL was refused (it is from an earlier run of cachepoint ui, or cut short)' : 'the URL had no key' }
    return { kind: 'down', message }
  } catch {
    return { kind: 'page-server-gone', message: 'the page server is not answering (is cachepoint ui still running?)' }
  }
}

function follow (): void {
  const events = new EventSource('/v1/events')
  events.addEventListener('status', (event) => { update(JSON.parse((event as MessageEvent<string>).data) as StatusInfo) })
  events.addEventListener('error', () => {
    if (events.readyState !== EventSource.CLOSED) return // the browser reconnects by itself
    events.close()
    void explainFailure().then((why) => {
      last = undefined
      update(undefined, why)
      setTimeout(follow, RECONNECT_MS)
    })
  })
}

async function act (button: HTMLButtonElement, path: string, done: (body: Record<string, unknown>) => string | undefined): Promise<void> {
  button.disabled = true
  try {
    const response = await fetch(`/v1/${path}`, { method: 'POST' })
    const body = await response.json() as Record<string, unknown> & { error?: { message: string } }
    if (!response.ok) showNotice(`${button.textContent ?? path} failed`, body.error?.message ?? `HTTP ${response.status}`, true)
    else {
      const message = done(body)
      if (message !== undefined) showNotice(button.textContent ?? path, message, false)
    }
  } catch (err) {
    showNotice(`${button.textContent ?? path} failed`, (err as Error).message, true)
  }
  // the next status event sets the buttons right
}

function started (body: Record<string, unknown>): string | undefined {
  const refs = (body.started as string[] | undefined) ?? []
  return refs.length === 0 ? 'Nothing to catch up: no interrupted pull.' : `Continuing ${refs.join(', ')}.`
}

async function main (): Promise<void> {
  const key = new URLSearchParams(location.hash.slice(1)).get(LAUNCH_KEY_PARAM)
  if (key !== null) {
    const response = await fetch(SESSION_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [LAUNCH_KEY_PARAM]: key }) }).catch(() => undefined)
    history.replaceState(null, '', location.pathname) // the key leaves the address bar and the history
    if (response?.status === 401) staleKey = true
  }
  const pause = byId<HTMLButtonElement>('pause')
  const resume = byId<HTMLButtonElement>('resume')
  const sync = byId<HTMLButtonElement>('sync')
  pause.addEventListener('click', () => { void act(pause, 'pause', () => undefined) })
  resume.addEventListener('click', () => { void act(resume, 'resume', () => undefined) })
  sync.addEventListener('click', () => { void act(sync, 'sync', started) })
  follow()
  setInterval(loadRollouts, ROLLOUT_POLL_MS)
}

void main()
