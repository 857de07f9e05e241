import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import { after, describe, it } from 'node:test'
import { fileURLToPath } from 'node:url'

const CHECK = fileURLToPath(new URL('../../../scripts/check-layers.mjs', import.meta.url))
const dirs: string[] = []
after(async () => { await Promise.all(dirs.map(async d => { await rm(d, { recursive: true, force: true }) })) })

/** A repository of three workspaces, low < mid < high, each importing what `imports` says from its src/index.ts. */
async function tree (imports: Record<'low' | 'mid' | 'high', string>, declared: Record<string, string[]> = {}): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'layers-'))
  dirs.push(root)
  const files: Record<string, string> = {
    'package.json': JSON.stringify({ workspaces: ['packages/*'] }),
    'scripts/layers.json': JSON.stringify({ layers: [['@x/low'], ['@x/mid'], ['@x/high']] })
  }
  for (const name of ['low', 'mid', 'high'] as const) {
    const deps = Object.fromEntries((declared[name] ?? { low: [], mid: ['@x/low'], high: ['@x/low', '@x/mid'] }[name]).map(d => [d, '0.1.0']))
    files[`packages/${name}/package.json`] = JSON.stringify({ name: `@x/${name}`, dependencies: deps })
    files[`packages/${name}/src/index.ts`] = imports[name]
  }
  for (const [path, text] of Object.entries(files)) {
    await mkdir(dirname(join(root, path)), { recursive: true })
    await writeFile(join(root, path), text)
  }
  return root
}

function check (root: string): { status: number | null, stderr: string } {
  const r = spawnSync(process.execPath, [CHECK, root], { encoding: 'utf8' })
  return { status: r.status, stderr: r.stderr }
}

describe('layering check (npm test runs it before the tests)', () => {
  it('passes a tree whose imports all point down', async () => {
    const root = await tree({ low: 'export const a = 1\n', mid: "import { a } from '@x/low'\nexport const b = a\n", high: "export { b } from '@x/mid'\nimport('@x/low')\n" })
    assert.equal(check(root).status, 0)
  })

  it('fails on an upward import, an undeclared one and a relative path into another workspace, one line each', async () => {
    const root = await tree({
      low: "import { b } from '@x/mid'\nexport const a = b\n",
      mid: "import { a } from '../../low/src/index.js'\nexport const b = a\n",
      high: "import { a } from '@x/low'\nexport const c = a\n"
    }, { low: [], mid: [], high: [] })
    const r = check(root)
    assert.equal(r.status, 1)
    assert.match(r.stderr, /packages\/low\/src\/index\.ts:1: @x\/low \(layer 0\) imports @x\/mid \(layer 1\): a package imports only lower layers/)
    assert.match(r.stderr, /packages\/low\/src\/index\.ts:1: @x\/low imports @x\/mid, which its package.json does not declare/)
    assert.match(r.stderr, /packages\/mid\/src\/index\.ts:1: relative import '..\/..\/low\/src\/index.js' reaches outside @x\/mid/)
    assert.match(r.stderr, /packages\/high\/src\/index\.ts:1: @x\/high imports @x\/low, which its package.json does not declare/)
    assert.match(r.stderr, /4 violations/)
  })

  it('passes this repository', () => {
    assert.equal(check(fileURLToPath(new URL('../../..', import.meta.url))).status, 0)
  })
})
