/**
 * Booting a real Debian VM from a version that is still in the data center
 * (issue 11, "Streaming over a thin link"): qemu (direct kernel boot)
 * with its root disk on a CachePoint NBD export, on a node that holds none
 * of the image, whose only peer sits behind a link shaped to BENCH_BOOT_RATE
 * (default 20mbit, tc tbf both ways on a veth pair into a network
 * namespace). Measured to the serial console's login prompt, beside the same
 * boot from the image file on local disk (page cache warm) in the same run;
 * goal <= 1.5x. Also: the bytes that crossed the link (the veth's counters)
 * against the bytes the guest read, with and without the export's background
 * pull of the whole version.
 *
 * The accelerator is BENCH_BOOT_ACCEL (default tcg: this machine's /dev/kvm
 * is kvm-pvm, which runs only PVM-enabled guest kernels and hangs a stock
 * Debian kernel at "Probing EDD"; under TCG the boot is CPU-bound emulation,
 * so the local boot is slow and the link's share of a boot smaller than
 * under KVM). Set BENCH_BOOT_ACCEL=kvm where KVM runs stock kernels.
 *
 * Needs root, qemu-system-x86, iproute2, debootstrap and the
 * package mirror (the bootable image is built once and cached: see
 * vm-boot/image.ts); without them the rows are skipped with the reason.
 * Run: BENCH=vm-boot npm run bench
 */
import '@cachecloud/core/polyfill'
import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { access, mkdtemp, open, readFile, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pathToFileURL } from 'node:url'
import { promisify } from 'node:util'
import { findTool, RootRequiredError } from '@cachecloud/fixtures'
import { generateNetworkKey } from '@cachecloud/network'
import { CLI_PATH, initLoopbackNode, launchCachePoint } from 'cachepoint/launcher'
import type { BenchResult } from './types.js'
import { recompressed } from './recompressed.js'
import { debianBootImage, type BootImage } from './vm-boot/image.js'

const exec$ = promisify(execFile)
const RATE = process.env.BENCH_BOOT_RATE ?? '20mbit'
const NS = 'ccboot-dc'
const VETH_HERE = 'ccboot0'
const VETH_THERE = 'ccboot1'
const HERE_IP = '10.77.0.1'
const THERE_IP = '10.77.0.2'
const DC_PORT = 4871
const ACCEL = process.env.BENCH_BOOT_ACCEL ?? 'tcg'
const BOOT_TIMEOUT_MS = 900_000
const say = (line: string): void => { process.stderr.write(`bench: vm-boot: ${line}\n`) }

async function sh (cmd: string, ...args: string[]): Promise<string> {
  return (await exec$(cmd, args)).stdout
}

async function missing (): Promise<string | undefined> {
  if (process.getuid?.() !== 0) return 'needs root (network namespaces, tc)'
  for (const tool of ['qemu-system-x86_64', 'ip', 'tc', 'debootstrap']) {
    if (await findTool(tool) === undefined) return `needs ${tool} (apt-get install -y qemu-system-x86 iproute2 debootstrap)`
  }
  if (ACCEL === 'kvm') { try { await access('/dev/kvm') } catch { return 'BENCH_BOOT_ACCEL=kvm needs /dev/kvm' } }
  return undefined
}

/** The data-center namespace behind a veth pair shaped to RATE both ways. */
async function makeLink (): Promise<void> {
  await removeLink()
  await sh('ip', 'netns', 'add', NS)
  await sh('ip', 'link', 'add', VETH_HERE, 'type', 'veth', 'peer', 'name', VETH_THERE)
  await sh('ip', 'link', 'set', VETH_THERE, 'netns', NS)
  await sh('ip', 'addr', 'add', `${HERE_IP}/30`, 'dev', VETH_HERE)
  await sh('ip', 'link', 'set', VETH_HERE, 'up')
  await sh('ip', 'netns', 'exec', NS, 'ip', 'addr', 'add', `${THERE_IP}/30`, 'dev', VETH_THERE)
  await sh('ip', 'netns', 'exec', NS, 'ip', 'link', 'set', VETH_THERE, 'up')
  await sh('ip', 'netns', 'exec', NS, 'ip', 'link', 'set', 'lo', 'up')
  await sh('tc', 'qdisc', 'add', 'dev', VETH_HERE, 'root', 'tbf', 'rate', RATE, 'burst', '64kb', 'latency', '100ms')
  await sh('ip', 'netns', 'exec', NS, 'tc', 'qdisc', 'add', 'dev', VETH_THERE, 'root', 'tbf', 'rate', RATE, 'burst', '64kb', 'latency', '100ms')
}

async function removeLink (): Promise<void> {
  await sh('ip', 'link', 'del', VETH_HERE).catch(() => '')
  await sh('ip', 'netns', 'del', NS).catch(() => '')
}

/** Bytes received here over the link so far. */
async function linkBytesIn (): Promise<number> {
  return Number((await readFile(`/sys/class/net/${VETH_HERE}/statistics/rx_bytes`, 'utf8')).trim())
}

/** Boots the VM with `drive` as its root disk; milliseconds until the serial console shows a login prompt. */
async function boot (image: BootImage, drive: string, logFile: string): Promise<number> {
  const started = performance.now()
  const qemu = spawn('qemu-system-x86_64', [
    '-accel', ACCEL, '-m', '512', '-smp', '1', '-display', 'none', '-monitor', 'none', '-serial', 'stdio', '-no-reboot',
    '-kernel', image.kernel, '-initrd', image.initrd, '-append', 'root=/dev/vda rw console=ttyS0 edd=off quiet',
    // writes go to a temporary overlay: the export and the file stay as they are
    '-drive', `${drive},format=raw,if=virtio,snapshot=on`
  ], { stdio: ['ignore', 'pipe', 'pipe'] })
  const log = await open(logFile, 'w')
  try {
    return await new Promise<number>((resolve, reject) => {
      let seen = ''
      const tail = (): string => JSON.stringify(seen.slice(-200))
      const timer = setTimeout(() => { reject(new Error(`no login prompt within ${BOOT_TIMEOUT_MS / 1000} s; the console ended ${tail()}`)) }, BOOT_TIMEOUT_MS)
      qemu.stdout.on('data', (chunk: Buffer) => {
        void log.write(chunk)
        seen = (seen + chunk.toString('latin1')).slice(-512)
        if (/login: ?$/m.test(seen)) { clearTimeout(timer); resolve(performance.now() - started) }
      })
      qemu.stderr.on('data', (chunk: Buffer) => { void log.write(chunk) })
      qemu.once('exit', code => { clearTimeout(timer); reject(new Error(`qemu exited (${String(code)}) before a login prompt; the console ended ${tail()}`)) })
    })
  } finally {
    await stop(qemu)
    await log.close()
  }
}

async function stop (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = once(child, 'exit')
  child.kill('SIGKILL')
  await exited
}

interface LinkBoot { ms: number, linkBytes: number, readBytes: number, fetchedBytes: number, wireBytes: number }

/** A fresh node here, its only peer the data center's across the link, boots the VM from its export of boot@v1. */
async function bootOverLink (
  dir: string,
  name: string,
  image: BootImage,
  dc: { peerId: string, publisherKey: string },
  keyFile: string,
  pull: boolean
): Promise<LinkBoot> {
  const dataDir = join(dir, name)
  await initLoopbackNode(dataDir, { peers: [`/ip4/${THERE_IP}/tcp/${DC_PORT}/p2p/${dc.peerId}`], trustedPublishers: [dc.publisherKey], swarm: { networkKey: keyFile } })
  const node = await launchCachePoint({ dataDir, logLevel: 'warn' })
  try {
    const end = Date.now() + 30_000
    while ((await node.client.status()).connections === 0) {
      if (Date.now() > end) throw new Error('the branch node did not connect to the data center across the link')
      await new Promise(resolve => setTimeout(resolve, 100))
    }
    const before = await linkBytesIn()
    const served = await node.client.serve({ ref: 'boot@v1', port: 0, pull })
    const ms = await boot(image, `file=${served.uri}`, join(dir, `${name}.serial.log`))
    const linkBytes = await linkBytesIn() - before
    const reads = (await node.client.exports())[0]?.reads
    return { ms, linkBytes, readBytes: reads?.readBytes ?? 0, fetchedBytes: reads?.fetchedBytes ?? 0, wireBytes: reads?.wireBytes ?? 0 }
  } finally {
    await node.stop()
  }
}

/** The data center's node: the version imported on loopback, then the daemon restarted inside the namespace, listening on its end of the link. */
async function dataCenter (dir: string, image: BootImage, keyFile: string): Promise<{ peerId: string, publisherKey: string, proc: ChildProcess }> {
  const dataDir = join(dir, 'dc')
  const init = await initLoopbackNode(dataDir, { swarm: { networkKey: keyFile } })
  const loopback = await launchCachePoint({ dataDir, logLevel: 'warn' })
  try {
    say('importing the bootable image into the data center\'s node')
    await loopback.client.importImage({ file: image.image, name: 'boot', version: 'v1' }, () => {})
    // as a publisher does before a rollout: the blocks at the level they are then sent at (config "restLevel")
    const r = await recompressed(loopback.client, 'boot@v1', 0)
    say(`recompressed ${r.blocks} blocks at level ${r.level} in ${(r.ms / 1000).toFixed(1)} s: ${(r.storedAfter / 1e6).toFixed(1)} MB stored`)
  } finally {
    await loopback.stop()
  }
  const configPath = join(dataDir, 'config.json')
  const config = JSON.parse(await readFile(configPath, 'utf8')) as Record<string, unknown>
  await writeFile(configPath, JSON.stringify({ ...config, listen: [`/ip4/${THERE_IP}/tcp/${DC_PORT}`] }, null, 2))
  const log = await open(join(dataDir, 'daemon-ns.log'), 'a')
  const proc = spawn('ip', ['netns', 'exec', NS, process.execPath, CLI_PATH, '--data-dir', dataDir, 'daemon', '--log-level', 'warn'], { stdio: ['ignore', log.fd, log.fd] })
  await log.close()
  // its control API is on the namespace's loopback: wait for the libp2p port instead
  const end = Date.now() + 30_000
  while (!(await sh('ip', 'netns', 'exec', NS, 'ss', '-ltn').catch(() => '')).includes(`${THERE_IP}:${DC_PORT}`)) {
    if (proc.exitCode !== null) throw new Error(`the data center's daemon exited (${proc.exitCode}); see ${join(dataDir, 'daemon-ns.log')}`)
    if (Date.now() > end) throw new Error('the data center\'s daemon did not listen in its namespace')
    await new Promise(resolve => setTimeout(resolve, 100))
  }
  return { peerId: init.peerId, publisherKey: init.publisherKey, proc }
}

export async function run (): Promise<BenchResult[]> {
  const why = await missing()
  if (why !== undefined) { say(`skipped: ${why}`); return [{ name: 'vm-boot: skipped', value: 0, unit: '', note: why }] }
  let image: BootImage
  try {
    image = await debianBootImage(say)
  } catch (err) {
    if (!(err instanceof RootRequiredError)) throw err
    return [{ name: 'vm-boot: skipped', value: 0, unit: '', note: err.message }]
  }
  const dir = await mkdtemp(join(tmpdir(), 'cc-bench-vm-boot-'))
  let dc: ChildProcess | undefined
  try {
    say(`booting from the local file (${ACCEL}), twice: the first warms the page cache`)
    await boot(image, `file=${image.image}`, join(dir, 'warmup.serial.log'))
    const localMs = await boot(image, `file=${image.image}`, join(dir, 'local.serial.log'))
    say(`local boot ${(localMs / 1000).toFixed(1)} s`)
    await makeLink()
    const keyFile = join(dir, 'swarm.key')
    await writeFile(keyFile, generateNetworkKey(), { mode: 0o600 })
    const center = await dataCenter(dir, image, keyFile)
    dc = center.proc
    const lazy = await bootOverLink(dir, 'lazy', image, center, keyFile, false)
    say(`boot over ${RATE}, on demand only: ${(lazy.ms / 1000).toFixed(1)} s, ${(lazy.linkBytes / 1e6).toFixed(1)} MB over the link`)
    const pulling = await bootOverLink(dir, 'pulling', image, center, keyFile, true)
    say(`boot over ${RATE}, with the background pull: ${(pulling.ms / 1000).toFixed(1)} s, ${(pulling.linkBytes / 1e6).toFixed(1)} MB over the link`)
    const row = (label: string, b: LinkBoot): BenchResult => ({
      name: `vm-boot: Debian to login from an export over a ${RATE} link, ${label}`,
      value: b.ms / 1000,
      unit: 's',
      baselineName: 'local boot from the image file',
      baseline: localMs / 1000,
      ratio: b.ms / localMs,
      goal: '<= 1.5',
      met: b.ms / localMs <= 1.5,
      note: `qemu ${ACCEL}; ${(b.linkBytes / 1e6).toFixed(1)} MB crossed the link (block streams ${(b.wireBytes / 1e6).toFixed(1)} MB for ${(b.fetchedBytes / 1e6).toFixed(1)} MB of blocks fetched on demand); the guest read ${(b.readBytes / 1e6).toFixed(1)} MB`
    })
    return [row('on demand only (serve --no-pull)', lazy), row('with the background pull (serve)', pulling)]
  } finally {
    if (dc !== undefined) await stop(dc)
    await removeLink()
    await rm(dir, { recursive: true, force: true })
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  for (const r of await run()) process.stdout.write(`${r.name}: ${r.value.toFixed(1)} ${r.unit} vs ${r.baseline?.toFixed(1) ?? '-'} ${r.unit} (${r.baselineName ?? ''}), ratio ${r.ratio?.toFixed(2) ?? '-'}, goal ${r.goal ?? '-'}; ${r.note ?? ''}\n`)
}
