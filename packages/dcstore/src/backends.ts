import type { BlockBackend } from './backend.js'
import { LocalDirBackend } from './local-dir.js'
import { SharedFsBackend } from './shared-fs.js'
import { BackendConfigError } from './errors.js'
import { S3Backend, type S3BackendConfig } from './s3.js'

/** Where the users' blocks live (`dcstore serve --blocks ...`). */
export type BackendConfig =
  /** `<data>/blocks/<user>`, pack block stores, one process (the default). */
  | { kind: 'local' }
  /** A shared filesystem path (NAS mount): one file per block, several processes and hosts at once. */
  | { kind: 'shared-fs', path: string }
  /** An S3-compatible bucket: one object per block, several processes at once, object lock where the bucket has it. */
  | S3BackendConfig

/** The backend a config names; `beforeOpen` runs before the local directory opens a block store (the data-directory lock). */
export function createBackend (config: BackendConfig, dataDir: string, beforeOpen?: () => Promise<void>): BlockBackend {
  switch (config.kind) {
    case 'local': return new LocalDirBackend(dataDir, beforeOpen)
    case 'shared-fs':
      if (typeof config.path !== 'string' || config.path === '') throw new BackendConfigError('the shared-fs block backend needs a path')
      return new SharedFsBackend(config.path)
    case 's3': return new S3Backend(config)
    default: throw new BackendConfigError(`unknown block backend ${JSON.stringify((config as { kind?: unknown }).kind)}`)
  }
}

/**
 * A backend named on a command line (`--blocks`, `$DCSTORE_BLOCKS`):
 * `local`, `shared-fs:/mnt/nas/dcstore-blocks`, or
 * `s3://BUCKET[/PREFIX/][?endpoint=URL&region=R&lock-days=N&lock-mode=COMPLIANCE|GOVERNANCE&create=1]`
 * (credentials from the SDK's chain: $AWS_ACCESS_KEY_ID and $AWS_SECRET_ACCESS_KEY, ~/.aws).
 */
export function parseBackendSpec (spec: string): BackendConfig {
  if (spec === 'local') return { kind: 'local' }
  if (spec.startsWith('shared-fs:')) {
    const path = spec.slice('shared-fs:'.length)
    if (!path.startsWith('/')) throw new BackendConfigError(`--blocks shared-fs:PATH needs an absolute path, not ${JSON.stringify(path)}`)
    return { kind: 'shared-fs', path }
  }
  if (spec.startsWith('s3://')) {
    let url: URL
    try { url = new URL(spec) } catch { throw new BackendConfigError(`--blocks ${JSON.stringify(spec)} is not an s3://BUCKET/PREFIX/?endpoint=... URL`) }
    const q = url.searchParams
    for (const name of q.keys()) if (!['endpoint', 'region', 'lock-days', 'lock-mode', 'create', 'path-style'].includes(name)) throw new BackendConfigError(`--blocks s3://: unknown parameter ${JSON.stringify(name)}`)
    const prefix = decodeURIComponent(url.pathname.replace(/^\//, ''))
    const mode = q.get('lock-mode')
    if (mode !== null && mode !== 'COMPLIANCE' && mode !== 'GOVERNANCE') throw new BackendConfigError(`--blocks s3://: lock-mode is COMPLIANCE or GOVERNANCE, not ${JSON.stringify(mode)}`)
    const days = q.get('lock-days')
    return {
      kind: 's3',
      bucket: url.hostname,
      ...(prefix === '' ? {} : { prefix: prefix.endsWith('/') ? prefix : prefix + '/' }),
      ...(q.get('endpoint') === null ? {} : { endpoint: q.get('endpoint')! }),
      ...(q.get('region') === null ? {} : { region: q.get('region')! }),
      ...(days === null ? {} : { lockDays: Number(days) }),
      ...(mode === null ? {} : { lockMode: mode }),
      ...(q.get('create') === '1' || q.get('create') === 'true' ? { createBucket: true } : {}),
      ...(q.get('path-style') === null ? {} : { forcePathStyle: q.get('path-style') !== '0' && q.get('path-style') !== 'false' })
    }
  }
  throw new BackendConfigError(`unknown block backend ${JSON.stringify(spec.slice(0, 100))}: local, shared-fs:PATH or s3://BUCKET/...`)
}
