// Runs every compiled test file with Node's test runner: package tests
// (packages/*/dist/test, apps/*/dist/test), the multi-site network tests
// (infra/dist/test, namespaces: skipped with the reason when not root), then
// multi-node tests (test/dist).
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

const roots = []
for (const group of ['packages', 'apps']) {
  if (!existsSync(group)) continue
  for (const name of readdirSync(group).sort()) roots.push(join(group, name, 'dist', 'test'))
}
roots.push(join('infra', 'dist', 'test'))
roots.push(join('test', 'dist', 'src'))
const files = roots.flatMap(testFiles)
if (files.length === 0) {
  console.error('no test files found: run `npm run build` first')
  process.exit(1)
}
const result = spawnSync(process.execPath, ['--test', '--test-reporter=spec', ...process.argv.slice(2), ...files], { stdio: 'inherit' })
process.exit(result.status ?? 1)
