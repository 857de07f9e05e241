import { z } from 'zod'
import { MAX_BLOCK_SIZE, MIN_BLOCK_SIZE } from '@cachecloud/image'
import { LOG_LEVELS } from './constants.js'

const strings = (key: string): z.ZodOptional<z.ZodArray<z.ZodString>> =>
  z.array(z.string({ error: `"${key}" must be a list of strings` }), { error: `"${key}" must be a list of strings` }).optional()
const flag = (key: string): z.ZodOptional<z.ZodBoolean> => z.boolean({ error: `"${key}" must be true or false` }).optional()
const positiveInt = (key: string): z.ZodOptional<z.ZodNumber> =>
  z.number({ error: `"${key}" must be a whole number of at least 1` }).int({ error: `"${key}" must be a whole number of at least 1` }).min(1, { error: `"${key}" must be a whole number of at least 1` }).optional()
const blockSizeRule = `"blockSize" must be a power of two from ${MIN_BLOCK_SIZE} (4 KiB) to ${MAX_BLOCK_SIZE} (16 MiB)`

/**
 * The shape of config.json: every key, its type, nothing else (an unknown key is refused
 * with the nearest valid one suggested). Rules that need a parser (multiaddrs, keys, rates)
 * are checked after it, in config.ts, swarm-config.ts and personal-config.ts.
 */
export const configSchema = z.strictObject({
  dataDir: z.string({ error: '"dataDir" must be a string' }).optional(),
  listen: strings('listen'),
  peers: strings('peers'),
  trustedPublishers: strings('trustedPublishers'),
  controlPort: z.number({ error: '"controlPort" must be a port number (0-65535)' })
    .int({ error: '"controlPort" must be a port number (0-65535)' }).min(0, { error: '"controlPort" must be a port number (0-65535)' }).max(65535, { error: '"controlPort" must be a port number (0-65535)' }).optional(),
  blockSize: z.number({ error: blockSizeRule }).int({ error: blockSizeRule }).min(
    MIN_BLOCK_SIZE,
    { error: blockSizeRule }
  ).max(MAX_BLOCK_SIZE, { error: blockSizeRule })
    .refine(n => (n & (n - 1)) === 0, { error: blockSizeRule }).optional(),
  logLevel: z.enum(LOG_LEVELS, { error: `"logLevel" must be one of ${LOG_LEVELS.join(', ')}` }).optional(),
  insecureOpen: flag('insecureOpen'),
  site: z.string({ error: '"site" must be a label of letters, digits, ".", "_" or "-"' }).optional(),
  wan: z.strictObject({
    maxRate: z.union([z.number(), z.string()], { error: '"wan.maxRate" must be a rate such as "20mbit" or bytes per second' }).optional(),
    schedule: z.array(z.strictObject({
      from: z.number().int().min(0).max(23),
      to: z.number().int().min(1).max(24),
      maxRate: z.union([z.number(), z.string()])
    })).optional()
  }, { error: '"wan" must be an object like { "maxRate": "20mbit" }' }).optional(),
  networkKey: z.string({ error: '"networkKey" must be the key text or a path to it' }).optional(),
  allowPeers: strings('allowPeers'),
  bootstrap: strings('bootstrap'),
  mdns: flag('mdns'),
  inbound: z.strictObject({
    perHostPerSecond: positiveInt('inbound.perHostPerSecond'),
    maxPending: positiveInt('inbound.maxPending'),
    maxConnections: positiveInt('inbound.maxConnections')
  }, { error: '"inbound" must be an object like { "perHostPerSecond": 64, "maxPending": 128, "maxConnections": 1024 }' }).optional(),
  subscriptions: z.array(z.strictObject({
    name: z.string({ error: '"subscriptions": every entry needs a "name"' }),
    policy: z.enum(['auto', 'manual'], { error: '"subscriptions": policy must be auto or manual' }).optional()
  }), { error: '"subscriptions" must be a list of { "name": ..., "policy": "auto" | "manual" }' }).optional(),
  rolloutIntervalSeconds: positiveInt('rolloutIntervalSeconds'),
  exportCacheMiB: positiveInt('exportCacheMiB'),
  restLevel: z.number({ error: '"restLevel" must be a zstd level from 0 (off) to 19' }).int({ error: '"restLevel" must be a zstd level from 0 (off) to 19' })
    .min(0, { error: '"restLevel" must be a zstd level from 0 (off) to 19' }).max(19, { error: '"restLevel" must be a zstd level from 0 (off) to 19' }).optional(),
  personalization: z.array(z.strictObject({
    user: z.string({ error: '"personalization": every entry needs a "user" of letters, digits, ".", "_", "@" or "-"' }),
    path: z.string({ error: '"personalization": every entry needs a "path", an absolute path' }),
    keyFile: z.string({ error: '"personalization": a "keyFile" must be an absolute path' }).optional()
  }), { error: '"personalization" must be a list of { "user": ..., "path": ... }' }).optional(),
  retention: z.record(z.string(), z.strictObject({
    keepLast: z.number({ error: '"retention": "keepLast" must be a whole number of versions, at least 1' })
      .int({ error: '"retention": "keepLast" must be a whole number of versions, at least 1' }).min(1, { error: '"retention": "keepLast" must be a whole number of versions, at least 1' }).optional(),
    keepNewerThan: z.string({ error: '"retention": "keepNewerThan" must be a date (2026-11-01) or a duration (30d)' }).optional()
  }, { error: '"retention" must map image names (or "*") to { "keepLast": N, "keepNewerThan": "30d" }' }), { error: '"retention" must map image names (or "*") to { "keepLast": N, "keepNewerThan": "30d" }' }).optional(),
  personalStore: z.strictObject({
    address: z.string({ error: '"personalStore.address" must be a multiaddr ending in /p2p/<peer id>' }).optional(),
    fallbackAddresses: z.array(z.string(), { error: '"personalStore.fallbackAddresses" must be a list of multiaddrs ending in /p2p/<peer id>' }).optional(),
    discoveryKey: z.string({ error: '"personalStore.discoveryKey" must be the organization\'s discovery key (x25519:...)' })
  }, { error: '"personalStore" must be an object like { "address": "/ip4/.../p2p/...", "discoveryKey": "x25519:..." }' }).optional(),
  metrics: z.strictObject({
    listen: z.string({ error: '"metrics.listen" must be HOST:PORT, e.g. "127.0.0.1:9464"' }),
    tokenFile: z.string({ error: '"metrics.tokenFile" must be an absolute path' }).optional()
  }, { error: '"metrics" must be an object like { "listen": "127.0.0.1:9464" }' }).optional()
}, { error: 'must be a JSON object' })

/** Every top-level config key. */
export const CONFIG_KEYS = Object.keys(configSchema.shape) as Array<keyof typeof configSchema.shape>

/** Checks the shape of a config document; the first problem (unknown keys first: they explain the rest) goes to `reject`, one line. */
export function checkConfigShape (doc: unknown, reject: (why: string) => never): void {
  const result = configSchema.safeParse(doc)
  if (result.success) return
  const issues = [...result.error.issues].sort((a, b) => Number(b.code === 'unrecognized_keys') - Number(a.code === 'unrecognized_keys'))
  const issue = issues[0]
  const where = dotted(issue.path)
  if (issue.code === 'unrecognized_keys') {
    const key = issue.keys[0]
    const near = nearest(key, keysAt(issue.path))
    reject(`unknown key ${where === '' ? key : `${where}.${key}`}${near === undefined ? '' : ` (did you mean ${where === '' ? near : `${where}.${near}`}?)`}`)
  }
  reject(issue.message.startsWith('"') || where === '' ? issue.message : `"${where}": ${issue.message.replace(/^Invalid input: /, '')}`)
}

function dotted (path: PropertyKey[]): string {
  return path.map((p, i) => typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`).join('')
}

/** The keys allowed in the object at `path` of the schema. */
function keysAt (path: PropertyKey[]): string[] {
  let node: z.ZodType = configSchema
  for (const step of path) {
    while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType
    if (node instanceof z.ZodArray && typeof step === 'number') node = node.element as z.ZodType
    else if (node instanceof z.ZodRecord) node = node.valueType as z.ZodType
    else if (node instanceof z.ZodObject) node = (node.shape as Record<string, z.ZodType>)[String(step)]
    else return []
    if (node === undefined) return []
  }
  while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType
  if (node instanceof z.ZodArray) node = node.element as z.ZodType
  return node instanceof z.ZodObject ? Object.keys(node.shape) : []
}

/** The valid key closest to a mistyped one, if it is close enough to be what was meant. */
export function nearest (key: string, candidates: readonly string[]): string | undefined {
  let best: { name: string, distance: number } | undefined
  for (const name of candidates) {
    const distance = name.toLowerCase() === key.toLowerCase() ? 0 : editDistance(key.toLowerCase(), name.toLowerCase())
    if (best === undefined || distance < best.distance) best = { name, distance }
  }
  return best !== undefined && best.distance <= Math.max(2, Math.floor(key.length / 3)) ? best.name : undefined
}

function editDistance (a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j)
  for (let i = 1; i <= a.length; i++) {
    const row = [i]
    for (let j = 1; j <= b.length; j++) {
      row[j] = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1))
    }
    previous = row
  }
  return previous[b.length]
}
