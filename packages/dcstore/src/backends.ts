import type { BlockBackend } from './backend.js'
import { LocalDirBackend } from './local-dir.js'
import { SharedFsBackend } from './shared-fs.js'
import { BackendConfigError } from './errors.js'

/** Where the users' blocks live (`dcstore serve --blocks ...`). */
export type BackendConfig =
  /** `<data>/blocks/<user>`, pack block stores, one process (the default). */
  | { kind: 'local' }
  /** A shared filesystem path (NAS mount): one file per block, several processes and hosts at once. */
  | { kind: 'shared-fs', path: string }

/** The backend a config names; `beforeOpen` runs before the local directory opens a block store (the data-directory lock). */
export function createBackend (config: BackendConfig, dataDir: string, beforeOpen?: () => Promise<void>): BlockBackend {
  switch (config.kind) {
    case 'local': return new LocalDirBackend(dataDir, beforeOpen)
    case 'shared-fs':
      if (typeof config.path !== 'string' || config.path === '') throw new BackendConfigError('the shared-fs block backend needs a path')
      return new SharedFsBackend(config.path)
    default: throw new BackendConfigError(`unknown block backend ${JSON.stringify((config as { kind?: unknown }).kind)}`)
  }
}
