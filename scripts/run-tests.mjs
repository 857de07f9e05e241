// Runs every compiled test file with Node's test runner in two phases:
// package tests (packages/*/dist/test, apps/*/dist/test), two files at a time
// (they are small and mostly wait on their own processes and sockets); then,
// one file at a time, the multi-site network tests (infra/dist/test,
// namespaces: skipped with the reason when not root) and the multi-node tests
// (test/dist), which start many daemons each.
// Extra arguments are passed to `node --test` (e.g. --test-name-pattern).
import { spawnSync } from 'node:child_process'
import { existsSync, readdirSync } from 'node:fs'
import { join } from 'node:path'

function testFiles (dir) {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true })
    .filter(f => typeof f === 'string' && f.endsWith('.test.js'))
    .map(f => join(dir, f))
    .sort()
}

const packageRoots = []
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue
  for (const name of readdirSync(group).sort()) packageRoots.push(join(group, name, 'dist', 'test'))
}
const phases = [
  { files: packageRoots.flatMap(testFiles), concurrency: 2 },
  { files: [join('infra', 'dist', 'test'), join('test', 'dist', 'src')].flatMap(testFiles), concurrency: 1 }
]
if (phases.every(p => p.files.length === 0)) {
  console.error('no test files found: run `npm run build` first')
  process.exit(1)
}
let failed = false
for (const { files, concurrency } of phases) {
  if (files.length === 0) continue
  const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', `--test-concurrency=${concurrency}`, ...process.argv.slice(2), ...files], { stdio: 'inherit' })
  if (result.status !== 0) failed = true
}
process.exit(failed ? 1 : 0)
