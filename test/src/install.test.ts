// `npm ci` must work on a machine that reaches only the npm registry and
// Debian's packages (the README's first command): an install script that
// downloads from elsewhere fails there, and fails `npm ci` unless its package
// is optional. Native addons that build from source with node-gyp are fine.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'

interface LockEntry { hasInstallScript?: boolean, optional?: boolean, dev?: boolean }

/** Packages whose install script falls back to building from source here. */
const BUILDS_FROM_SOURCE = new Set(['better-sqlite3', 'zstd-napi', 'esbuild'])

test('no required package runs an install script that downloads from outside the registry', () => {
  const lock = JSON.parse(readFileSync(fileURLToPath(new URL('../../../package-lock.json', import.meta.url)), 'utf8')) as { packages: Record<string, LockEntry> }
  const offenders = Object.entries(lock.packages)
    .filter(([path, entry]) => path.startsWith('node_modules/') && entry.hasInstallScript === true && entry.optional !== true)
    .map(([path]) => path.slice(path.lastIndexOf('node_modules/') + 'node_modules/'.length))
    .filter(name => !BUILDS_FROM_SOURCE.has(name))
  assert.deepEqual(offenders, [], `install scripts that download: ${offenders.join(', ')} (make them optional)`)
})
