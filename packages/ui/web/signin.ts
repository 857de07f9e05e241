import { byId, el } from './dom.js'

/** Why the page has no status: no session, the daemon down, or the page server gone. */
export interface Unreachable {
  kind: 'signed-out' | 'down' | 'page-server-gone'
  message: string
}

/**
 * The sign-in banner: shown only when the page server refuses this page
 * (no key in its URL, or a key from an earlier run of `cachepoint ui`). The
 * CachePoint may well be running; what is missing is the page's key.
 */
export function renderSignIn (why: Unreachable | undefined): void {
  const box = byId('signin')
  if (why?.kind !== 'signed-out') { box.hidden = true; box.replaceChildren(); return }
  box.replaceChildren(el('p', {},
    el('strong', { text: 'This page is not signed in' }),
    ` (${why.message}). The page needs the key that `, el('code', { text: 'cachepoint ui' }),
    ' prints with its URL: run ', el('code', { text: 'cachepoint ui' }),
    ' on this machine and open the whole URL it prints (the part after # is the key). The tray\'s "Open CachePoint" does this for you.'))
  box.hidden = false
}
