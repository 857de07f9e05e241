import { mkdir, readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { writeFileAtomic } from '@cachecloud/core'
import { formatPublicKey, generatePublisherKey, loadPublisherKey, parsePublicKey, savePublisherKey } from '@cachecloud/manifest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreatePeerKey, parseMultiaddr } from '@cachecloud/network/settings'
import { loadOrCreateToken } from '@cachecloud/control'
import { CONFIG_FILE, DEFAULT_LISTEN_ADDRESS, PEER_KEY_FILE, PUBLISHER_KEY_FILE } from './constants.js'
import { AlreadyInitializedError, ConfigError, NotInitializedError } from './errors.js'
import { checkConfigShape } from './config-schema.js'
import { makePrivateDir } from './data-dir.js'
import { openListenAddress } from './open-listen.js'
import { parsePersonalFields, type PersonalConfig } from './personal-config.js'
import { parseSwarmFields, type SwarmConfig } from './swarm-config.js'
import { parseMetricsFields, type MetricsConfig } from './metrics-config.js'
import { parseRetentionFields, type RetentionConfig } from './retention.js'

/** The CachePoint config file (JSON). Every field but `dataDir` has a default. */
export interface CachePointConfig extends SwarmConfig, PersonalConfig, RetentionConfig, MetricsConfig {
  /** Data directory (block store, catalog, keys, token); relative paths are relative to the config file. */
  dataDir: string
  /** libp2p listen multiaddrs. */
  listen: string[]
  /** Peers to pull from when a pull names none (multiaddrs ending in /p2p/<peer id>). */
  peers: string[]
  /** Publisher keys (`ed25519:...`) whose manifests this node accepts; its own key is always trusted. */
  trustedPublishers: string[]
  /** Control API port on 127.0.0.1; 0 lets the OS choose (the port is published in the data directory). */
  controlPort: number
  /** Block size for images imported on this node, unless the import names one. */
  blockSize?: number
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace'
  /** Listen beyond loopback with neither a network key nor an allow-list: anyone who reaches the port can list and download every image. Logged at warn on every start. */
  insecureOpen?: boolean
  /** Memory budget, in MiB, of the read cache each NBD export pool shares among its clones. Default 256 (nbd's DEFAULT_CACHE_MAX_BYTES). */
  exportCacheMiB?: number
  /** zstd level the blocks a version imported here adds are re-encoded at in the background after the import (0: off). Default REST_LEVEL (15). */
  restLevel?: number
}

/** Checks a config document or some of its keys, and fills the defaults; the first problem (one line naming the key) goes to `reject`. */
export function parseConfigFields (doc: unknown, reject: (why: string) => never): CachePointConfig {
  checkConfigShape(doc, reject)
  const d = doc as Record<string, unknown> & Partial<CachePointConfig>
  const listen = d.listen ?? [DEFAULT_LISTEN_ADDRESS]
  const peers = d.peers ?? []
  for (const addr of listen) {
    try { parseMultiaddr(addr) } catch (err) { reject(`"listen": ${(err as Error).message}`) }
  }
  for (const addr of peers) {
    try { parseMultiaddr(addr) } catch (err) { reject(`"peers": ${(err as Error).message}`) }
    // without the peer id a pull cannot check it reached the right node, and the address is never dialled
    if (!addr.includes('/p2p/')) reject(`"peers": ${addr} must end in /p2p/<peer id>`)
  }
  const trustedPublishers = d.trustedPublishers ?? []
  for (const key of trustedPublishers) {
    try { parsePublicKey(key) } catch (err) { reject(`"trustedPublishers": ${(err as Error).message}`) }
  }
  return {
    dataDir: d.dataDir ?? '.',
    listen,
    peers,
    trustedPublishers,
    controlPort: d.controlPort ?? 0,
    blockSize: d.blockSize,
    logLevel: d.logLevel ?? 'info',
    ...(d.insecureOpen === undefined ? {} : { insecureOpen: d.insecureOpen }),
    ...(d.exportCacheMiB === undefined ? {} : { exportCacheMiB: d.exportCacheMiB }),
    ...(d.restLevel === undefined ? {} : { restLevel: d.restLevel }),
    ...parseSwarmFields(d, reject),
    ...parsePersonalFields(d, reject),
    ...parseRetentionFields(d, reject),
    ...parseMetricsFields(d as Parameters<typeof parseMetricsFields>[0], reject)
  }
}

/** Parses and checks a config document; every problem is one line naming the field (and the file), a ConfigError unless `reject` throws another. */
export function parseConfig (text: string, path: string, reject: (why: string) => never = (why) => { throw new ConfigError(`config ${path}: ${why}`) }): CachePointConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    reject(`not valid JSON (${(err as Error).message})`)
  }
  const config = parseConfigFields(raw, reject)
  const open = openListenAddress(config)
  if (open !== undefined) {
    reject(`"listen" ${open} is reachable beyond this host, but neither "networkKey" nor "allowPeers" is set: any host that reaches it could list and download every image (set one, listen on /ip4/127.0.0.1 only, or set "insecureOpen": true to accept that)`)
  }
  return { ...config, dataDir: isAbsolute(config.dataDir) ? config.dataDir : resolve(dirname(path), config.dataDir) }
}

export async function loadConfig (path: string): Promise<CachePointConfig> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      throw new NotInitializedError(`no CachePoint config at ${path} (create one with: cachepoint init)`)
    }
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, { cause: err })
  }
  return parseConfig(text, path)
}

export async function saveConfig (path: string, config: CachePointConfig): Promise<void> {
  const { dataDir, metrics, ...rest } = config
  if (metrics !== undefined) {
    Object.assign(
      rest,
      { metrics: { listen: metrics.listen, ...(metrics.tokenFile === undefined ? {} : { tokenFile: metrics.tokenFile }) } }
    )
  }
  const relative = resolve(dirname(path)) === resolve(dataDir) ? '.' : dataDir
  await writeFileAtomic(path, JSON.stringify({ dataDir: relative, ...rest }, null, 2) + '\n')
}

export interface InitOptions {
  listen?: string[]
  peers?: string[]
  trustedPublishers?: string[]
  controlPort?: number
  blockSize?: number
  /** Accept a listen address beyond loopback with neither network key nor allow-list (config "insecureOpen"). */
  insecureOpen?: boolean
  /** Config "restLevel": the zstd level what is imported here is recompressed at afterwards (0: off). */
  restLevel?: number
  /** Personal folders and their store (see PersonalConfig). */
  personalization?: PersonalConfig['personalization']
  personalStore?: PersonalConfig['personalStore']
  /** Swarm fields (site, wan, networkKey, allowPeers, bootstrap, mdns, subscriptions), checked like the config file's. */
  swarm?: SwarmConfig
  /** The Prometheus endpoint (config "metrics"). */
  metrics?: { listen: string, tokenFile?: string }
}

export interface InitResult {
  configPath: string
  config: CachePointConfig
  publisherKey: string
  peerId: string
}

/** Creates a data directory: config, peer identity, publisher key and control token. Refuses to overwrite one. */
export async function initDataDir (dataDir: string, options: InitOptions = {}): Promise<InitResult> {
  const configPath = join(dataDir, CONFIG_FILE)
  if (await stat(configPath).then(() => true, () => false)) {
    throw new AlreadyInitializedError(`${configPath} already exists; this CachePoint is initialized`)
  }
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await makePrivateDir(dataDir)
  const text = JSON.stringify({
    dataDir: '.',
    listen: options.listen ?? [DEFAULT_LISTEN_ADDRESS],
    peers: options.peers ?? [],
    trustedPublishers: options.trustedPublishers ?? [],
    controlPort: options.controlPort ?? 0,
    ...(options.blockSize === undefined ? {} : { blockSize: options.blockSize }),
    ...(options.personalization === undefined ? {} : { personalization: options.personalization }),
    ...(options.personalStore === undefined ? {} : { personalStore: options.personalStore }),
    ...options.swarm,
    ...(options.metrics === undefined ? {} : { metrics: options.metrics }),
    ...(options.insecureOpen === true ? { insecureOpen: true } : {}),
    ...(options.restLevel === undefined ? {} : { restLevel: options.restLevel }),
    logLevel: 'info'
  })
  const config = parseConfig(text, configPath)
  const peerKey = await loadOrCreatePeerKey(join(dataDir, PEER_KEY_FILE))
  const publisherKey = generatePublisherKey()
  await savePublisherKey(join(dataDir, PUBLISHER_KEY_FILE), publisherKey)
  await loadOrCreateToken(dataDir)
  await saveConfig(configPath, config)
  return { configPath, config, peerId: peerIdFromPrivateKey(peerKey).toString(), publisherKey: formatPublicKey(publisherKey.publicKey) }
}

export async function loadKeys (dataDir: string): Promise<{
  peerKey: Awaited<ReturnType<typeof loadOrCreatePeerKey>>,
  publisherKey: Awaited<ReturnType<typeof loadPublisherKey>>
}> {
  const peerKey = await loadOrCreatePeerKey(join(dataDir, PEER_KEY_FILE))
  const publisherKey = await loadPublisherKey(join(dataDir, PUBLISHER_KEY_FILE))
  return { peerKey, publisherKey }
}

/** The peer id and publisher key of an initialized data directory, read without starting anything (and without making a missing key). */
export async function readIdentity (dataDir: string): Promise<{ peerId: string, publisherKey: string }> {
  for (const file of [PEER_KEY_FILE, PUBLISHER_KEY_FILE]) {
    if (!await stat(join(dataDir, file)).then(() => true, () => false)) throw new NotInitializedError(`no ${file} in ${dataDir} (create one with: cachepoint init)`)
  }
  const { peerKey, publisherKey } = await loadKeys(dataDir)
  return { peerId: peerIdFromPrivateKey(peerKey).toString(), publisherKey: formatPublicKey(publisherKey.publicKey) }
}
