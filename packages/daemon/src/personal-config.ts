import { parseMultiaddr } from '@cachecloud/network/settings'
import { parseX25519Key } from '@cachecloud/personal'
import { ConfigError } from './errors.js'

/** Most further store addresses `personalStore.fallbackAddresses` may list. */
const MAX_FALLBACK_STORES = 16

/** Config of personal folders (docs/formats/personal.md); both fields optional. */
export interface PersonalConfig {
  /**
   * Users' folders versioned on this node: `[{ "user": "alice", "path": "/home/alice/Documents", "keyFile": "/etc/cachecloud/alice.key" }]`.
   * `keyFile` (optional): the user's X25519 key pair, the same file on each of the user's machines; with it the
   * machines share one user key and merge each other's changes into the folder (docs/formats/personal.md#convergence).
   */
  personalization?: Array<{ user: string, path: string, keyFile?: string }>
  /**
   * The data-center store snapshots replicate to; without it they stay local.
   * `fallbackAddresses`: further store processes of the same archive (several `dcstore serve` behind one index),
   * tried in order when `address` cannot be reached; a store's refusal is final.
   */
  personalStore?: { address?: string, fallbackAddresses?: string[], discoveryKey: string }
}

/** Reads and checks the personal-folder fields of a config document; each problem is one line naming the field. */
export function parsePersonalConfig (doc: Record<string, unknown>, path: string): PersonalConfig {
  return parsePersonalFields(doc, why => { throw new ConfigError(`config ${path}: ${why}`) })
}

/** The checks of parsePersonalConfig, reporting the first problem (one line naming the field) to `reject`, which throws. */
export function parsePersonalFields (doc: Record<string, unknown>, reject: (why: string) => never): PersonalConfig {
  const fail: (path: string, why: string) => never = (_path, why) => reject(why)
  const path = ''
  const out: PersonalConfig = {}
  if (doc.personalization !== undefined) {
    const list = doc.personalization
    if (!Array.isArray(list)) fail(path, '"personalization" must be a list of { "user": ..., "path": ... }')
    const users = new Set<string>()
    out.personalization = list.map((e: { user?: unknown, path?: unknown, keyFile?: unknown }) => {
      if (typeof e?.user !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/.test(e.user)) fail(path, '"personalization": every entry needs a "user" of letters, digits, ".", "_", "@" or "-"')
      if (typeof e.path !== 'string' || !e.path.startsWith('/')) fail(path, `"personalization": the "path" of ${e.user} must be an absolute path`)
      if (users.has(e.user)) fail(path, `"personalization": user ${e.user} is listed twice`)
      if (e.keyFile !== undefined && (typeof e.keyFile !== 'string' || !e.keyFile.startsWith('/'))) fail(path, `"personalization": the "keyFile" of ${e.user} must be an absolute path`)
      users.add(e.user)
      return { user: e.user, path: e.path, ...(e.keyFile === undefined ? {} : { keyFile: e.keyFile as string }) }
    })
  }
  if (doc.personalStore !== undefined) {
    const s = doc.personalStore as { address?: unknown, discoveryKey?: unknown }
    if (typeof s !== 'object' || s === null) fail(path, '"personalStore" must be an object like { "address": "/ip4/.../p2p/...", "discoveryKey": "x25519:..." }')
    if (typeof s.discoveryKey !== 'string') fail(path, '"personalStore.discoveryKey" must be the organization\'s discovery key (x25519:...)')
    try { parseX25519Key(s.discoveryKey) } catch (err) { fail(path, `"personalStore.discoveryKey": ${(err as Error).message}`) }
    const checkAddress = (value: unknown, field: string): string => {
      if (typeof value !== 'string') fail(path, `"${field}" must be a multiaddr ending in /p2p/<peer id>`)
      try { parseMultiaddr(value) } catch (err) { fail(path, `"${field}": ${(err as Error).message}`) }
      if (!value.includes('/p2p/')) fail(path, `"${field}" must end in /p2p/<peer id>`)
      return value
    }
    if (s.address !== undefined) checkAddress(s.address, 'personalStore.address')
    const fallbacks = (s as { fallbackAddresses?: unknown }).fallbackAddresses
    if (fallbacks !== undefined) {
      if (!Array.isArray(fallbacks) || fallbacks.length > MAX_FALLBACK_STORES) fail(path, `"personalStore.fallbackAddresses" must be a list of at most ${MAX_FALLBACK_STORES} multiaddrs ending in /p2p/<peer id>`)
      if (s.address === undefined) fail(path, '"personalStore.fallbackAddresses" needs "personalStore.address" (tried first)')
      fallbacks.forEach((a, i) => checkAddress(a, `personalStore.fallbackAddresses[${i}]`))
    }
    out.personalStore = {
      ...(s.address === undefined ? {} : { address: s.address as string }),
      ...(fallbacks === undefined ? {} : { fallbackAddresses: fallbacks as string[] }),
      discoveryKey: s.discoveryKey
    }
  }
  if (out.personalization !== undefined && out.personalization.length > 0 && out.personalStore === undefined) {
    fail(path, '"personalization" needs "personalStore" with at least the "discoveryKey" (snapshots seal the user key for it)')
  }
  return out
}
