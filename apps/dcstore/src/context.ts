import { resolve } from 'node:path'
import { createDcStore, createPgIndex, parseBackendSpec, readAuditKey, type AuditKey, type BackendConfig, type DcStore, type VersionIndex } from '@cachecloud/dcstore'
import { readDiscoveryKey } from './keys.js'

export interface GlobalOptions {
  data?: string
  discoveryKey?: string
  operator?: string
  auditKey?: string
  indexUrl?: string
  blocks?: string
  json?: boolean
}

/** The index backend: PostgreSQL with --index-url (or $DCSTORE_INDEX_URL), else the default SQLite file; the store processes sharing a PostgreSQL index also coordinate their audit appends through it. */
export function indexFor (g: GlobalOptions): { index?: VersionIndex, coordination?: { connectionString: string } } {
  const url = g.indexUrl ?? process.env.DCSTORE_INDEX_URL
  return url === undefined ? {} : { index: createPgIndex({ connectionString: url }), coordination: { connectionString: url } }
}

/** The block backend: --blocks (or $DCSTORE_BLOCKS), else the local directory. */
export function blocksFor (g: GlobalOptions): { blocks?: BackendConfig } {
  const spec = g.blocks ?? process.env.DCSTORE_BLOCKS
  return spec === undefined || spec === '' ? {} : { blocks: parseBackendSpec(spec) }
}

export function dataDir (g: GlobalOptions): string {
  return resolve(g.data ?? process.env.DCSTORE_HOME ?? 'dcstore-data')
}

/** The audit key file: --audit-key, else $DCSTORE_AUDIT_KEY; undefined when neither is set. */
export function auditKeyPath (g: GlobalOptions): string | undefined {
  const path = g.auditKey ?? process.env.DCSTORE_AUDIT_KEY
  return path === undefined || path === '' ? undefined : resolve(path)
}

/** The audit key, when one is configured (refused inside the data directory). */
export async function loadAuditKey (g: GlobalOptions): Promise<AuditKey | undefined> {
  const path = auditKeyPath(g)
  return path === undefined ? undefined : await readAuditKey(path, dataDir(g))
}

/**
 * Opens the store for an admin or discovery command (no network), runs `fn`,
 * closes it. Only `create` commands (enroll) make a new store; any other fails
 * with NoStoreError on a directory that holds none (a typo in --data).
 */
export async function withStore<T> (g: GlobalOptions, fn: (store: DcStore) => Promise<T>, options: { create?: boolean } = {}): Promise<T> {
  const discoveryPrivateKey = g.discoveryKey === undefined ? undefined : await readDiscoveryKey(g.discoveryKey)
  const auditKey = await loadAuditKey(g)
  const operator = g.operator ?? process.env.DCSTORE_OPERATOR
  const store = createDcStore({
    path: dataDir(g), create: options.create ?? false, ...indexFor(g), ...blocksFor(g),
    ...(operator === undefined || operator === '' ? {} : { operator }),
    ...(discoveryPrivateKey === undefined ? {} : { discoveryPrivateKey }),
    ...(auditKey === undefined ? {} : { auditKey })
  })
  await store.start()
  try {
    return await fn(store)
  } finally {
    await store.stop()
  }
}

/**
 * A name from a snapshot (a path, a symlink target) made safe for a terminal:
 * control characters (C0, DEL, C1) and backslashes are escaped (`\n`, `\x1b`),
 * so an ANSI sequence or a newline in a file name cannot forge output lines.
 */
export function printable (text: string): string {
  return text.replace(/[\\\u0000-\u001f\u007f-\u009f]/g, c => {
    if (c === '\\') return '\\\\'
    if (c === '\n') return '\\n'
    if (c === '\t') return '\\t'
    if (c === '\r') return '\\r'
    return '\\x' + c.charCodeAt(0).toString(16).padStart(2, '0')
  })
}

/** Prints JSON with --json, else the text lines. */
export function print (g: GlobalOptions, value: unknown, lines: () => string[]): void {
  process.stdout.write(g.json === true ? JSON.stringify(value, null, 2) + '\n' : lines().map(l => l + '\n').join(''))
}
