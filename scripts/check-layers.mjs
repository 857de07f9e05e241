// The layering check (run by `npm test` before the tests): every workspace
// imports only workspaces of a lower layer (scripts/layers.json), only those
// its package.json declares, and never reaches into another workspace's files
// by a relative path. Exits 1 with one line per violation.
// Usage: node scripts/check-layers.mjs [ROOT]   (default: the repository)
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, relative, resolve, sep } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'))
const { layers } = JSON.parse(readFileSync(join(root, 'scripts', 'layers.json'), 'utf8'))

const layerOf = new Map()
layers.forEach((names, i) => { for (const name of names) layerOf.set(name, i) })

/** Workspaces by package name: their directory and declared dependencies. */
function workspaces () {
  const rootPkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'))
  const dirs = []
  for (const pattern of rootPkg.workspaces ?? []) {
    if (pattern.endsWith('/*')) {
      const base = join(root, pattern.slice(0, -2))
      if (existsSync(base)) for (const d of readdirSync(base).sort()) dirs.push(join(base, d))
    } else dirs.push(join(root, pattern))
  }
  const found = new Map()
  for (const dir of dirs) {
    const file = join(dir, 'package.json')
    if (!existsSync(file)) continue
    const pkg = JSON.parse(readFileSync(file, 'utf8'))
    found.set(pkg.name, { dir, declared: new Set(Object.keys({ ...pkg.dependencies, ...pkg.devDependencies, ...pkg.peerDependencies })) })
  }
  return found
}

function * sourceFiles (dir) {
  for (const sub of ['src', 'test']) {
    const base = join(dir, sub)
    if (!existsSync(base)) continue
    for (const f of readdirSync(base, { recursive: true })) {
      if (typeof f === 'string' && /\.(ts|tsx|mts)$/.test(f) && !f.endsWith('.d.ts')) yield join(base, f)
    }
  }
}

// static imports and re-exports start a line; dynamic imports follow a space, a bracket or an operator
const IMPORT = /^\s*(?:import|export)\s[^'"]*?from\s*['"]([^'"]+)['"]|(?:^|[\s(=,:?])import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s*['"]([^'"]+)['"]/gm

const all = workspaces()
const problems = []
for (const [name, ws] of all) {
  const layer = layerOf.get(name)
  if (layer === undefined) { problems.push(`${relative(root, ws.dir)}: workspace ${name} has no layer in scripts/layers.json`); continue }
  for (const file of sourceFiles(ws.dir)) {
    const text = readFileSync(file, 'utf8')
    for (const m of text.matchAll(IMPORT)) {
      const spec = m[1] ?? m[2] ?? m[3]
      const at = `${relative(root, file)}:${text.slice(0, m.index).split('\n').length}`
      if (spec.startsWith('.')) {
        const target = resolve(dirname(file), spec)
        if (target !== ws.dir && !target.startsWith(ws.dir + sep)) problems.push(`${at}: relative import '${spec}' reaches outside ${name}`)
        continue
      }
      const pkgName = spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]
      if (!all.has(pkgName) || pkgName === name) continue
      const theirs = layerOf.get(pkgName)
      if (!ws.declared.has(pkgName)) problems.push(`${at}: ${name} imports ${pkgName}, which its package.json does not declare`)
      if (theirs !== undefined && theirs >= layer) problems.push(`${at}: ${name} (layer ${layer}) imports ${pkgName} (layer ${theirs}): a package imports only lower layers`)
    }
  }
}
if (problems.length > 0) {
  for (const p of problems) console.error(`layering: ${p}`)
  console.error(`layering: ${problems.length} ${problems.length === 1 ? 'violation' : 'violations'} (layers: scripts/layers.json)`)
  process.exit(1)
}
console.log(`layering: ${all.size} workspaces, every import points down`)
