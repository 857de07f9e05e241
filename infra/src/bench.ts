/**
 * The swarm benchmark (bench/src/swarm.ts runs this and reads its JSON): versions of an image
 * distributed to 16 nodes in 3 sites over shaped links, against (a) the same nodes each
 * downloading the image file from one node:http server in the data center over the same links
 * and (b) the ideal: the bytes that really entered the busiest branch link / its rate, plus a
 * LAN copy. Rows: bench-rows.ts.
 * Env:
 * - BENCH_SWARM_CONTENT: `os` (default) publishes the OS-update benchmark's real Debian root
 *   filesystem (2 GiB ext4, packages/fixtures debianRootfsImages: cached, built once as root) as
 *   v1, then its in-place apt-get update as v2; `synthetic` one version of a BENCH_SWARM_MIB
 *   (default 1024) ext4 image of random files (incompressible).
 * - BENCH_SWARM_RATE: branch uplink, default 20mbit.
 * - BENCH_SWARM_HTTP: `bound` (default): the HTTP time is not measured but bounded from below by
 *   each branch link carrying 7 whole files, which favours HTTP; `measure` downloads them (at
 *   1 GiB and 20 Mbit/s about 50 minutes).
 * Nodes: node.ts runners (one process per node instead of daemon + relay) with the allow-list
 * (Noise only) instead of the network key (Noise plus the network key's pure-JS cipher): the same
 * swarm code, less CPU per byte on a 2-core machine.
 */
import { spawn } from 'node:child_process'
import { readFile, stat } from 'node:fs/promises'
import { debianRootfsImages } from '@cachecloud/fixtures'
import { swarmRows, type Result } from './bench-rows.js'
import { canMakeNamespaces, type Topology } from './netns.js'
import { runScenario } from './scenario.js'

/** The env variable's value (or the fallback), which must be one of `allowed`. */
function choice (name: string, fallback: string, allowed: string[]): string {
  const value = process.env[name] ?? fallback
  if (!allowed.includes(value)) throw new Error(`${name}=${value}: expected one of ${allowed.join(', ')}`)
  return value
}

const MIB = Number(process.env.BENCH_SWARM_MIB ?? 1024)
const RATE = process.env.BENCH_SWARM_RATE ?? '20mbit'
const rateBytes = Number(/^(\d+)mbit$/.exec(RATE)?.[1] ?? 20) * 1e6 / 8
const BRANCH_HOSTS = 7
/** LAN time in the ideal: a delta moved once more at libp2p's single-core rate (FACTS.md: 400-550 MB/s). */
const LAN_BYTES_PER_S = 400e6
const log = (line: string): void => { process.stderr.write(`bench swarm: ${line}\n`) }
const loadavg = async (): Promise<string> => (await readFile('/proc/loadavg', 'utf8')).split(' ').slice(0, 3).join(' ')

/** Every node but the server downloads the file at once; seconds until the last is done. */
async function httpBaseline (topo: Topology, file: string): Promise<number> {
  const server = topo.hosts[0]
  const size = (await stat(file)).size
  const serve = `require('node:http').createServer((q,s)=>{s.writeHead(200,{'content-length':${size}});require('node:fs').createReadStream(${JSON.stringify(file)}).pipe(s)}).listen(8080,'0.0.0.0',()=>console.log('up'))`
  const srv = spawn('ip', ['netns', 'exec', server.ns, process.execPath, '-e', serve], { stdio: ['ignore', 'pipe', 'inherit'] })
  await new Promise(resolve => srv.stdout.once('data', resolve))
  try {
    const get = `fetch('http://${server.ip}:8080/').then(async r=>{let n=0;for await(const c of r.body)n+=c.length;console.log(n)})`
    const t0 = Date.now()
    await Promise.all(topo.hosts.slice(1).map(async h => {
      const c = spawn('ip', ['netns', 'exec', h.ns, process.execPath, '-e', get], { stdio: ['ignore', 'pipe', 'inherit'] })
      let out = ''
      c.stdout.on('data', (d: Buffer) => { out += d.toString() })
      await new Promise(resolve => c.once('exit', resolve))
      if (Number(out.trim()) !== size) throw new Error(`${h.name}: HTTP download got ${out.trim()} of ${size} bytes`)
    }))
    return (Date.now() - t0) / 1000
  } finally {
    srv.kill('SIGKILL')
  }
}

/** The OS-update benchmark's two Debian images (cached; built once, as root, from the package mirror). */
async function osImages (): Promise<{ v1: string, v2: string }> {
  try {
    const images = await debianRootfsImages({ onProgress: e => { log(e.type === 'rootfs:build' ? `building the OS images (${e.step})` : `OS images in ${e.dir}`) } })
    return { v1: images.v1, v2: images.v2 }
  } catch (err) {
    throw new Error(`no OS images (${(err as Error).message}); BENCH_SWARM_CONTENT=synthetic runs without them`, { cause: err })
  }
}

async function main (): Promise<Result[]> {
  const HTTP = choice('BENCH_SWARM_HTTP', 'bound', ['bound', 'measure'])
  const CONTENT = choice('BENCH_SWARM_CONTENT', 'os', ['os', 'synthetic'])
  const check = await canMakeNamespaces()
  if (!check.ok) return [{ name: 'swarm distribution', value: 0, unit: 's', note: `skipped: ${check.why}` }]
  const loadStart = await loadavg()
  const images = CONTENT === 'os' ? await osImages() : undefined
  let http = 0
  let fileBytes = 0
  const t0 = Date.now()
  const report = await runScenario({
    ...(images !== undefined ? { images, versions: ['v1', 'v2'] } : { sizeMiB: MIB, versions: ['v1'] }),
    sites: [{ name: 'dc', hosts: 2 }, { name: 'b1', hosts: BRANCH_HOSTS, wanRate: RATE }, { name: 'b2', hosts: BRANCH_HOSTS, wanRate: RATE }],
    laptopCutMs: 0,
    nodes: 'runner',
    membership: 'allowList',
    prefix: `ccb${process.pid % 10000}`,
    log,
    beforeTeardown: async (topo, file) => {
      fileBytes = (await stat(file)).size
      if (HTTP === 'measure') http = await httpBaseline(topo, file)
    }
  })
  const v1 = report.versions[0]
  const content = images !== undefined
    ? `Debian 12 minbase root filesystem, 2 GiB ext4 (v1: ${(v1.deltaBytes / 1e6).toFixed(0)} MB of non-zero blocks), v2 its apt-get update in place (${((report.versions[1]?.deltaBytes ?? 0) / 1e6).toFixed(0)} MB of changed blocks)`
    : `${MIB} MiB ext4 image of random files (${(v1.deltaBytes / 1e6).toFixed(0)} MB of blocks)`
  const note = `${content}; 16 nodes: dc 2, two branches of ${BRANCH_HOSTS} at ${RATE}; runner nodes, allow-list; load average at the start ${loadStart}, at the end ${await loadavg()}; whole run ${((Date.now() - t0) / 1000).toFixed(0)} s`
  return swarmRows({
    report,
    rateBytes,
    lanBytesPerS: LAN_BYTES_PER_S,
    osContent: images !== undefined,
    branchHosts: BRANCH_HOSTS,
    http: { seconds: HTTP === 'measure' ? http : BRANCH_HOSTS * fileBytes / rateBytes, measured: HTTP === 'measure', fileBytes },
    note
  })
}

main().then(results => { process.stdout.write(JSON.stringify(results) + '\n') }, (err: Error) => { process.stderr.write(`bench swarm failed: ${err.message}\n`); process.exit(1) })
