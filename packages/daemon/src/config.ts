import { mkdir, readFile, stat } from 'node:fs/promises'
import { dirname, isAbsolute, join, resolve } from 'node:path'
import { writeFileAtomic } from '@cachecloud/core'
import { formatPublicKey, generatePublisherKey, loadPublisherKey, parsePublicKey, savePublisherKey } from '@cachecloud/manifest'
import { peerIdFromPrivateKey } from '@libp2p/peer-id'
import { loadOrCreatePeerKey, parseMultiaddr } from '@cachecloud/network'
import { loadOrCreateToken } from '@cachecloud/control'
import { CONFIG_FILE, DEFAULT_LISTEN_ADDRESS, PEER_KEY_FILE, PUBLISHER_KEY_FILE } from './constants.js'
import { AlreadyInitializedError, ConfigError, NotInitializedError } from './errors.js'
import { parsePersonalConfig, type PersonalConfig } from './personal-config.js'
import { parseSwarmConfig, type SwarmConfig } from './swarm-config.js'

/** The CachePoint config file (JSON). Every field but `dataDir` has a default. */
export interface CachePointConfig extends SwarmConfig, PersonalConfig {
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
}

const LOG_LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])

function fail (path: string, why: string): never {
  throw new ConfigError(`config ${path}: ${why}`)
}

function stringList (path: string, value: unknown, key: string): string[] {
  if (value === undefined) return []
  if (!Array.isArray(value) || !value.every(v => typeof v === 'string')) fail(path, `"${key}" must be a list of strings`)
  return value
}

/** Parses and checks a config document; every problem is one line naming the field. */
export function parseConfig (text: string, path: string): CachePointConfig {
  let raw: unknown
  try {
    raw = JSON.parse(text)
  } catch (err) {
    fail(path, `not valid JSON (${(err as Error).message})`)
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail(path, 'must be a JSON object')
  const doc = raw as Record<string, unknown>
  const dataDir = doc.dataDir ?? '.'
  if (typeof dataDir !== 'string') fail(path, '"dataDir" must be a string')
  const listen = doc.listen === undefined ? [DEFAULT_LISTEN_ADDRESS] : stringList(path, doc.listen, 'listen')
  const peers = stringList(path, doc.peers, 'peers')
  for (const addr of [...listen, ...peers]) {
    try { parseMultiaddr(addr) } catch (err) { fail(path, (err as Error).message) }
  }
  const trustedPublishers = stringList(path, doc.trustedPublishers, 'trustedPublishers')
  for (const key of trustedPublishers) {
    try { parsePublicKey(key) } catch (err) { fail(path, (err as Error).message) }
  }
  const controlPort = doc.controlPort ?? 0
  if (typeof controlPort !== 'number' || !Number.isInteger(controlPort) || controlPort < 0 || controlPort > 65535) fail(path, '"controlPort" must be a port number (0-65535)')
  const blockSize = doc.blockSize
  if (blockSize !== undefined && (typeof blockSize !== 'number' || !Number.isInteger(blockSize) || blockSize <= 0)) fail(path, '"blockSize" must be a positive integer')
  const logLevel = doc.logLevel ?? 'info'
  if (typeof logLevel !== 'string' || !LOG_LEVELS.has(logLevel)) fail(path, `"logLevel" must be one of ${[...LOG_LEVELS].join(', ')}`)
  return {
    dataDir: isAbsolute(dataDir) ? dataDir : resolve(dirname(path), dataDir),
    listen,
    peers,
    trustedPublishers,
    controlPort,
    blockSize,
    logLevel: logLevel as CachePointConfig['logLevel'],
    ...parseSwarmConfig(doc, path),
    ...parsePersonalConfig(doc, path)
  }
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
  const { dataDir, ...rest } = config
  const relative = resolve(dirname(path)) === resolve(dataDir) ? '.' : dataDir
  await writeFileAtomic(path, JSON.stringify({ dataDir: relative, ...rest }, null, 2) + '\n')
}

export interface InitOptions {
  listen?: string[]
  peers?: string[]
  trustedPublishers?: string[]
  controlPort?: number
  blockSize?: number
  /** Personal folders and their store (see PersonalConfig). */
  personalization?: PersonalConfig['personalization']
  personalStore?: PersonalConfig['personalStore']
  /** Swarm fields (site, wan, networkKey, allowPeers, bootstrap, mdns, subscriptions), checked like the config file's. */
  swarm?: SwarmConfig
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
  await mkdir(dataDir, { recursive: true })
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

export async function loadKeys (dataDir: string): Promise<{ peerKey: Awaited<ReturnType<typeof loadOrCreatePeerKey>>, publisherKey: Awaited<ReturnType<typeof loadPublisherKey>> }> {
  const peerKey = await loadOrCreatePeerKey(join(dataDir, PEER_KEY_FILE))
  const publisherKey = await loadPublisherKey(join(dataDir, PUBLISHER_KEY_FILE))
  return { peerKey, publisherKey }
}
