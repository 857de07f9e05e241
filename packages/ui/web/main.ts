/**
 * The status page. It talks to the daemon only through the control API,
 * through the UI server's proxy (packages/ui/src/server.ts explains the
 * session): live status from GET /v1/events, actions by POST.
 */
import type { PeerInfo, StatusInfo } from '@cachecloud/control'
import { LAUNCH_KEY_PARAM, SESSION_PATH } from '../src/constants.js'
import { noticesBetween, summarize } from '../src/summary.js'
import { byId } from './dom.js'
import { renderPeers, renderStatus, showNotice } from './render.js'

const RECONNECT_MS = 2000
let last: StatusInfo | undefined
let peersKey = ''

function update (status: StatusInfo | undefined, explanation?: string): void {
  for (const notice of noticesBetween(last, status)) showNotice(notice.title, notice.body, notice.kind === 'pull-failed')
  if (status !== undefined) last = status
  renderStatus(status, summarize(status), explanation)
  // the peer list is fetched again only when what it shows may have changed
  const key = status === undefined ? '' : `${status.connections}/${status.peersReachable}`
  if (status !== undefined && key !== peersKey) {
    peersKey = key
    void fetch('/v1/peers').then(async r => r.ok ? await r.json() as PeerInfo[] : []).then(renderPeers, () => {})
  }
}

async function explainFailure (): Promise<string> {
  try {
    const response = await fetch('/v1/status')
    if (response.ok) return 'reconnecting'
    const body = await response.json() as { error?: { message?: string } }
    return body.error?.message ?? `HTTP ${response.status}`
  } catch {
    return 'the page server is not answering (is cachepoint ui still running?)'
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
    await fetch(SESSION_PATH, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ [LAUNCH_KEY_PARAM]: key }) })
    history.replaceState(null, '', location.pathname) // the key leaves the address bar and the history
  }
  const pause = byId<HTMLButtonElement>('pause')
  const resume = byId<HTMLButtonElement>('resume')
  const sync = byId<HTMLButtonElement>('sync')
  pause.addEventListener('click', () => { void act(pause, 'pause', () => undefined) })
  resume.addEventListener('click', () => { void act(resume, 'resume', () => undefined) })
  sync.addEventListener('click', () => { void act(sync, 'sync', started) })
  follow()
}

void main()
