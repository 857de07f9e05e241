import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, readFile, symlink, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { makeSparseImage, requireTools, run, runOk, sha256File } from '@cachecloud/fixtures'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { createTestCluster, type TestCluster } from './nodes.js'
import { cli, cliJson, type CliRun } from './cli-run.js'

const SIZE = 24 * 1024 * 1024
const REGIONS = [{ offset: 0, length: 3 * 1024 * 1024 }, { offset: 9 * 1024 * 1024 + 4096, length: 700_000 }, { offset: SIZE - 65536, length: 65536 }]

function oneLine (r: CliRun, code: number, pattern: RegExp): void {
  const lines = r.stderr.trim().split('\n')
  assert.equal(lines.length, 1, `one line of error, got: ${r.stderr}`)
  assert.match(lines[0], pattern)
  assert.equal(r.code, code, r.stderr)
}

async function refs (node: LaunchedCachePoint): Promise<string[]> {
  return (await cliJson<Array<{ name: string, version: string }>>(node.dataDir, 'image', 'ls')).map(v => `${v.name}@${v.version}`)
}

describe('image import/export of qcow2, VMDK and VHDX through qemu-img', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let dir: string
  let raw: string

  before(async () => {
    await requireTools(['qemu-img', 'qemu-nbd', 'nbdcopy'])
    cluster = await createTestCluster('formats')
    dir = cluster.dir
    raw = join(dir, 'gold.raw')
    await makeSparseImage(raw, SIZE, REGIONS)
    node = await cluster.start('node')
  })

  after(async () => { await cluster?.close() })

  it('imports a VMDK (detected) and exports raw bit-identical to qemu-img convert -O raw of it', async () => {
    const vmdk = join(dir, 'gold.vmdk')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'vmdk', raw, vmdk])
    const reference = join(dir, 'gold.vmdk.raw')
    await runOk('qemu-img', ['convert', '-f', 'vmdk', '-O', 'raw', vmdk, reference])
    const imported = await cli(node.dataDir, '--json', 'image', 'import', vmdk, '--name', 'gold', '--version', 'vmdk')
    assert.equal(imported.code, 0, imported.stderr)
    const stats = JSON.parse(imported.stdout) as { size: number, holes: number }
    assert.equal(stats.size, SIZE)
    assert.ok(stats.holes > 0, 'zero blocks of the disk are holes')
    const out = join(dir, 'gold.vmdk.export.raw')
    const exported = await cli(node.dataDir, 'image', 'export', 'gold@vmdk', out)
    assert.equal(exported.code, 0, exported.stderr)
    assert.equal(await sha256File(out), await sha256File(reference))
  })

  it('round-trips a qcow2 (--format qcow2): the exported qcow2 passes qemu-img compare with the original', async () => {
    const qcow2 = join(dir, 'gold.qcow2')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', raw, qcow2])
    const imported = await cli(node.dataDir, 'image', 'import', qcow2, '--format', 'qcow2', '--name', 'gold', '--version', 'qcow2')
    assert.equal(imported.code, 0, imported.stderr)
    const out = join(dir, 'out.qcow2')
    const exported = await cli(node.dataDir, 'image', 'export', 'gold@qcow2', out, '--format', 'qcow2')
    assert.equal(exported.code, 0, exported.stderr)
    const info = JSON.parse((await runOk('qemu-img', ['info', '--output=json', out])).stdout) as { format: string, 'virtual-size': number }
    assert.equal(info.format, 'qcow2')
    assert.equal(info['virtual-size'], SIZE)
    const compare = await run('qemu-img', ['compare', '-f', 'qcow2', '-F', 'qcow2', qcow2, out])
    assert.equal(compare.code, 0, compare.stdout + compare.stderr)
  })

  it('exports VMDK and VHDX that qemu-img compares identical to the raw original; VHDX imports back', async () => {
    for (const format of ['vmdk', 'vhdx']) {
      const out = join(dir, `out.${format}`)
      const exported = await cli(node.dataDir, 'image', 'export', 'gold@qcow2', out, '--format', format)
      assert.equal(exported.code, 0, exported.stderr)
      const compare = await run('qemu-img', ['compare', '-f', format, '-F', 'raw', out, raw])
      assert.equal(compare.code, 0, `${format}: ${compare.stdout}${compare.stderr}`)
    }
    const back = await cli(node.dataDir, 'image', 'import', join(dir, 'out.vhdx'), '--name', 'gold', '--version', 'vhdx')
    assert.equal(back.code, 0, back.stderr)
    const plain = join(dir, 'vhdx.raw')
    assert.equal((await cli(node.dataDir, 'image', 'export', 'gold@vhdx', plain)).code, 0)
    assert.equal(await sha256File(plain), await sha256File(raw))
  })

  it('refuses an existing target without --force, and replaces it with --force', async () => {
    const out = join(dir, 'exists.qcow2')
    await writeFile(out, 'keep me')
    const r = await cli(node.dataDir, 'image', 'export', 'gold@qcow2', out, '--format', 'qcow2')
    oneLine(r, 5, /exists/)
    assert.equal(await readFile(out, 'utf8'), 'keep me')
    const forced = await cli(node.dataDir, 'image', 'export', 'gold@qcow2', out, '--format', 'qcow2', '--force')
    assert.equal(forced.code, 0, forced.stderr)
    assert.equal((await run('qemu-img', ['compare', '-F', 'raw', out, raw])).code, 0)
  })

  it('unknown --format: one line naming the formats, exit 2, nothing imported or written', async () => {
    const r = await cli(node.dataDir, 'image', 'import', raw, '--format', 'vdx', '--name', 'gold', '--version', 'unknown')
    oneLine(r, 2, /unknown disk format "vdx": use one of raw, qcow2, vmdk, vhdx/)
    assert.ok(!(await refs(node)).includes('gold@unknown'))
    const e = await cli(node.dataDir, 'image', 'export', 'gold@qcow2', join(dir, 'x.out'), '--format', 'iso')
    oneLine(e, 2, /unknown disk format "iso"/)
    await assert.rejects(readFile(join(dir, 'x.out')))
  })

  it('a format qemu-img knows but CacheCloud does not take (VHD): one line, exit 2, nothing imported', async () => {
    const vhd = join(dir, 'gold.vhd')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'vpc', raw, vhd])
    const r = await cli(node.dataDir, 'image', 'import', vhd, '--name', 'gold', '--version', 'vhd')
    oneLine(r, 2, /is a vpc \(VHD\) image, which CacheCloud does not import/)
    assert.ok(!(await refs(node)).includes('gold@vhd'))
  })

  it('a corrupt VMDK (damaged header, truncated file): one line, exit 6, nothing imported', async () => {
    const vmdk = await readFile(join(dir, 'gold.vmdk'))
    const damaged = Buffer.from(vmdk)
    damaged.writeUInt32LE(0xffffffff, 4) // version
    await writeFile(join(dir, 'bad-header.vmdk'), damaged)
    await writeFile(join(dir, 'truncated.vmdk'), vmdk.subarray(0, 3000))
    for (const file of ['bad-header.vmdk', 'truncated.vmdk']) {
      const r = await cli(node.dataDir, 'image', 'import', join(dir, file), '--name', 'gold', '--version', `bad-${file.length}`)
      oneLine(r, 6, new RegExp(`cannot read .*${file} as vmdk: `))
    }
    // a raw file is not a VMDK because someone says so
    const said = await cli(node.dataDir, 'image', 'import', raw, '--format', 'vmdk', '--name', 'gold', '--version', 'said')
    oneLine(said, 6, /as vmdk: /)
    const held = await refs(node)
    assert.deepEqual(held.filter(r => r.startsWith('gold@bad') || r === 'gold@said'), [])
  })

  it('a qcow2 damaged past its start (found only while streaming): one line, exit 6, nothing imported', async () => {
    // 4 KiB clusters: each L1 entry maps 2 MiB, so the stream delivers 8 MiB before it reaches the damaged table
    const qcow2 = join(dir, 'damaged.qcow2')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'qcow2', '-o', 'cluster_size=4096', raw, qcow2])
    const bytes = Buffer.from(await readFile(qcow2))
    const l1 = Number(bytes.readBigUInt64BE(40))
    assert.notEqual(bytes.readBigUInt64BE(l1 + 8 * 4), 0n, 'L1 entry 4 (8-10 MiB) maps data')
    bytes.writeBigUInt64BE((1n << 63n) | 0x12345n, l1 + 8 * 4) // an unaligned L2 table offset
    await writeFile(qcow2, bytes)
    assert.equal((await run('qemu-img', ['info', qcow2])).code, 0, 'qemu-img info does not notice')
    const r = await cli(node.dataDir, 'image', 'import', qcow2, '--name', 'gold', '--version', 'damaged')
    oneLine(r, 6, /cannot read .*damaged\.qcow2 as qcow2: .*(corrupt|unaligned|error)/i)
    assert.ok(!(await refs(node)).includes('gold@damaged'))
  })

  it('refuses a qcow2 with a backing file (it would read another file of this machine): one line, nothing imported', async () => {
    const overlay = join(dir, 'overlay.qcow2')
    await runOk('qemu-img', ['create', '-f', 'qcow2', '-b', raw, '-F', 'raw', overlay])
    const r = await cli(node.dataDir, 'image', 'import', overlay, '--name', 'gold', '--version', 'backed')
    oneLine(r, 4, /has a backing file .*flatten it first/)
    assert.ok(!(await refs(node)).includes('gold@backed'))
  })
})

describe('image import/export of other formats without qemu-utils', () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  const path = process.env.PATH

  before(async () => {
    await requireTools(['qemu-img'])
    cluster = await createTestCluster('formats-notools')
    // the daemon finds nothing on PATH (node itself is started by its absolute path)
    const empty = join(cluster.dir, 'bin')
    await mkdir(empty)
    await symlink('/bin/true', join(empty, 'unrelated'))
    process.env.PATH = empty
    try {
      node = await cluster.start('node')
    } finally {
      process.env.PATH = path
    }
  })

  after(async () => { await cluster?.close() })

  it('a qcow2 import says qemu-img is missing and how to install it, exit 12; raw still imports', async () => {
    const raw = join(cluster.dir, 'small.raw')
    await makeSparseImage(raw, 4 * 1024 * 1024, [{ offset: 0, length: 100_000 }])
    const qcow2 = join(cluster.dir, 'small.qcow2')
    await runOk('qemu-img', ['convert', '-O', 'qcow2', raw, qcow2])
    const r = await cli(node.dataDir, 'image', 'import', qcow2, '--name', 'small', '--version', '1')
    oneLine(r, 12, /qemu-img is not installed \(needed to read qcow2 images\): install it with: apt-get install -y qemu-utils/)
    assert.deepEqual(await refs(node), [])
    const e = await cli(node.dataDir, 'image', 'import', raw, '--name', 'small', '--version', '2')
    assert.equal(e.code, 0, e.stderr)
    const x = await cli(node.dataDir, 'image', 'export', 'small@2', join(cluster.dir, 'x.vmdk'), '--format', 'vmdk')
    oneLine(x, 12, /qemu-img is not installed \(needed to write vmdk images\)/)
    await assert.rejects(readFile(join(cluster.dir, 'x.vmdk')))
  })
})
