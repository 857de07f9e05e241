import assert from 'node:assert/strict'
import { readdir, readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'
import { CacheCloudError, ERROR_KINDS, httpStatusFor, isErrorKind, type ErrorKind } from '@cachecloud/core'
import { exitCodeFor } from '../src/exit-codes.js'

const ROOT = fileURLToPath(new URL('../../../../', import.meta.url))

type ErrorClass = new (...args: unknown[]) => CacheCloudError

/** Every exported subclass of CacheCloudError: each package's index, and the apps' errors.ts (apps have no index). */
async function errorClasses (): Promise<Map<ErrorClass, string[]>> {
  const modules: Array<[string, string]> = []
  for (const dir of (await readdir(join(ROOT, 'packages'))).sort()) {
    const pkg = JSON.parse(await readFile(join(ROOT, 'packages', dir, 'package.json'), 'utf8')) as { name: string, exports?: Record<string, unknown> }
    if (pkg.exports?.['.'] !== undefined) modules.push([pkg.name, pkg.name])
  }
  for (const app of (await readdir(join(ROOT, 'apps'))).sort()) {
    const file = join(ROOT, 'apps', app, 'dist', 'src', 'errors.js')
    if (await readFile(file).then(() => true, () => false)) modules.push([`apps/${app}`, new URL(`file://${file}`).href])
  }
  const found = new Map<ErrorClass, string[]>()
  for (const [label, specifier] of modules) {
    const exports = await import(specifier) as Record<string, unknown>
    for (const [name, value] of Object.entries(exports)) {
      if (typeof value !== 'function' || !(value.prototype instanceof CacheCloudError)) continue
      const where = found.get(value as ErrorClass) ?? []
      where.push(`${label}.${name}`)
      found.set(value as ErrorClass, where)
    }
  }
  return found
}

/** One of each: RemoteError carries the daemon's code and kind; every other class takes one or two strings. */
function construct (Class: ErrorClass): CacheCloudError {
  if (Class.name === 'RemoteError') return new Class('from the daemon', 'ERR_FROM_DAEMON', 'network')
  return new Class('first argument', 'second argument')
}

describe('error taxonomy: every error class of every package', () => {
  it('has a kind from the table, a unique code and name, and its exit code and HTTP status from the table', async () => {
    const classes = await errorClasses()
    assert.ok(classes.size > 100, `found only ${classes.size} error classes`)
    const byCode = new Map<string, string>()
    const byName = new Map<string, string>()
    for (const [cls, where] of classes) {
      const err = construct(cls)
      const label = where.join(', ')
      assert.ok(isErrorKind(err.kind), `${label}: kind ${String(err.kind)} is not in ERROR_KINDS`)
      assert.match(err.code, /^ERR_[A-Z0-9_]+$/, label)
      assert.equal(err.name, cls.name, `${label}: the instance's name is the class's`)
      assert.equal(exitCodeFor(err), ERROR_KINDS[err.kind].exitCode, label)
      assert.equal(httpStatusFor(err), ERROR_KINDS[err.kind].httpStatus, label)
      assert.ok(err instanceof Error && err.message.length > 0, label)
      if (cls.name === 'RemoteError') continue // its code is whichever the daemon sent
      assert.equal(byCode.get(err.code), undefined, `code ${err.code} of ${label} is also ${byCode.get(err.code) ?? ''}'s`)
      byCode.set(err.code, label)
      assert.equal(byName.get(cls.name), undefined, `class ${cls.name} of ${label} is defined twice (also ${byName.get(cls.name) ?? ''})`)
      byName.set(cls.name, label)
    }
  })
})

/** Mappings that were wrong (issue 17): [module, class, kind, exit, HTTP]. */
const FIXED: Array<[string, string, ErrorKind, number, number]> = [
  ['@cachecloud/transfer', 'InvalidMessageError', 'network', 7, 502], // a peer's malformed message: was 2 "bad usage", HTTP 400
  ['@cachecloud/swarm', 'InvalidSwarmMessageError', 'network', 7, 502], // the same for the swarm's messages: was 2, 400
  ['@cachecloud/personal', 'StoreUnreachableError', 'network', 7, 502], // was 1
  ['@cachecloud/ondemand', 'BlockUnavailableError', 'network', 7, 502], // was 1
  ['@cachecloud/image', 'CatalogCorruptError', 'integrity', 6, 422], // was 1
  ['@cachecloud/personal', 'StoreNotConfiguredError', 'config', 9, 500], // was thrown as SnapshotNotFoundError: 4 "not found"
  ['@cachecloud/personal', 'InvalidPersonalFormatError', 'integrity', 6, 422], // dcstore exited 2 for it
  ['@cachecloud/personal', 'UnsafePathError', 'integrity', 6, 422], // cachepoint exited 1 for it (dcstore 6)
  ['@cachecloud/personal', 'ReadRefusedError', 'network', 7, 502], // was 1; ReplicationRefusedError was 7
  ['@cachecloud/fixtures', 'MissingToolError', 'missing-tool', 12, 500], // was 1, DiskToolMissingError 12
  ['@cachecloud/metrics', 'MetricsAddressInUseError', 'in-use', 11, 409], // was MetricsListenError, 9 (cachepoint)
  ['@cachecloud/swarm', 'SwarmPausedError', 'paused', 10, 409],
  ['@cachecloud/swarm', 'SwarmVersionUnavailableError', 'not-found', 4, 404], // README: a version no peer offers is 4
  // statuses the control API answered before, kept
  ['@cachecloud/control', 'UnauthorizedError', 'unauthorized', 3, 401],
  ['@cachecloud/control', 'UnsupportedMediaTypeError', 'unsupported-media-type', 2, 415],
  ['@cachecloud/control', 'ControlWrongHostError', 'wrong-host', 2, 421],
  ['@cachecloud/control', 'BadRequestError', 'usage', 2, 400],
  ['@cachecloud/control', 'PullPausedError', 'paused', 10, 409],
  ['@cachecloud/daemon', 'VersionInUseError', 'in-use', 11, 409],
  ['@cachecloud/image', 'VersionNotFoundError', 'not-found', 4, 404],
  ['@cachecloud/image', 'VersionExistsError', 'exists', 5, 409],
  ['@cachecloud/blockstore', 'DiskFullError', 'disk-full', 8, 507],
  ['@cachecloud/ui', 'CrossOriginError', 'forbidden', 2, 403]
]

describe('error taxonomy: the mappings issue 17 found wrong', () => {
  for (const [module, name, kind, exit, status] of FIXED) {
    it(`${name} is ${kind}: exit ${exit}, HTTP ${status}`, async () => {
      const cls = (await import(module) as Record<string, ErrorClass>)[name]
      assert.ok(cls !== undefined, `${module} exports no ${name}`)
      const err = construct(cls)
      assert.equal(err.kind, kind)
      assert.equal(exitCodeFor(err), exit)
      assert.equal(httpStatusFor(err), status)
    })
  }

  it('dcstore exits 2 for a bad --metrics flag (its flags are its config) and by the same table otherwise', async () => {
    const { MetricsFlagError } = await import(new URL(`file://${join(ROOT, 'apps/dcstore/dist/src/errors.js')}`).href) as { MetricsFlagError: ErrorClass }
    const { exitCodeFor: dcstoreExit } = await import(new URL(`file://${join(ROOT, 'apps/dcstore/dist/src/exit-codes.js')}`).href) as { exitCodeFor: (err: unknown) => number }
    assert.equal(dcstoreExit(construct(MetricsFlagError)), 2)
    const { InvalidPersonalFormatError, SnapshotNotFoundError } = await import('@cachecloud/personal') as unknown as Record<string, ErrorClass>
    assert.equal(dcstoreExit(construct(InvalidPersonalFormatError)), 6)
    assert.equal(dcstoreExit(construct(SnapshotNotFoundError)), 4)
    assert.equal(dcstoreExit(Object.assign(new Error('no such file'), { code: 'ENOENT' })), 4)
  })
})

/** The README's exit-code table: rows `| EXIT | meaning | kinds | statuses |`. */
function readmeTable (text: string): Map<number, { kinds: string[], statuses: number[] }> {
  const rows = new Map<number, { kinds: string[], statuses: number[] }>()
  const start = text.indexOf('| Exit | Meaning | Kinds | HTTP |')
  assert.ok(start >= 0, 'the README has an exit-code table')
  for (const line of text.slice(start).split('\n').slice(2)) {
    if (!line.startsWith('|')) break
    const cells = line.split('|').slice(1, -1).map(c => c.trim())
    assert.equal(cells.length, 4, line)
    const kinds = [...cells[2].matchAll(/`([a-z-]+)`/g)].map(m => m[1])
    const statuses = cells[3] === '' ? [] : cells[3].split(',').map(s => Number(s.trim()))
    rows.set(Number(cells[0]), { kinds, statuses })
  }
  return rows
}

describe('error taxonomy: the README', () => {
  it('documents exactly core\'s table: each exit code with its kinds and their HTTP statuses', async () => {
    const rows = readmeTable(await readFile(join(ROOT, 'README.md'), 'utf8'))
    assert.deepEqual(rows.get(0), { kinds: [], statuses: [] })
    rows.delete(0)
    const expected = new Map<number, { kinds: string[], statuses: number[] }>()
    for (const [kind, { exitCode, httpStatus }] of Object.entries(ERROR_KINDS)) {
      const row = expected.get(exitCode) ?? { kinds: [], statuses: [] }
      row.kinds.push(kind)
      row.statuses.push(httpStatus)
      expected.set(exitCode, row)
    }
    assert.deepEqual(new Map([...rows].sort((a, b) => a[0] - b[0])), new Map([...expected].sort((a, b) => a[0] - b[0])))
  })

  it('dcstore\'s README lists only exit codes of the table, each with the table\'s meaning', async () => {
    const text = await readFile(join(ROOT, 'apps/dcstore/README.md'), 'utf8')
    const section = text.slice(text.indexOf('## Exit codes'))
    const listed = [...section.matchAll(/(?:^|, |\n)(\d{1,2}) ([a-z ]+?)(?: \(|,|\.|$)/gm)].map(m => [Number(m[1]), m[2].trim()] as const)
    assert.ok(listed.length >= 5, JSON.stringify(listed))
    const meanings = new Map(Object.values(ERROR_KINDS).map(k => [k.exitCode as number, k.summary as string]))
    meanings.set(0, 'ok')
    for (const [code, meaning] of listed) assert.ok(meanings.get(code)?.startsWith(meaning) === true, `dcstore README: ${code} ${meaning} (table: ${meanings.get(code) ?? 'none'})`)
  })
})
