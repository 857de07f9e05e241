import type { ScenarioReport } from './scenario.js'

/** One line of the benchmark table (bench/src/types.ts BenchResult). */
export interface Result {
  name: string,
  value: number,
  unit: string,
  baselineName?: string,
  baseline?: number,
  ratio?: number,
  goal?: string,
  met?: boolean,
  note?: string
}

export interface RowsInit {
  report: ScenarioReport
  /** Branch uplink rate, bytes per second. */
  rateBytes: number
  /** LAN copy rate in the ideal, bytes per second. */
  lanBytesPerS: number
  /** Real OS content (compressible: goal 0.45 of the raw delta) or the fixtures' random files (goal 1.1). */
  osContent: boolean
  /** Hosts that share one branch link (each downloads the whole file in the HTTP baseline). */
  branchHosts: number
  /** The HTTP baseline of v1: seconds, measured or bounded. */
  http: { seconds: number, measured: boolean, fileBytes: number }
  /** Said under the first row: content, sizes, load, run time. */
  note: string
}

const MB = 1e6
const GOAL_TIME = 1.15
const GOAL_WAN_OS = 0.45
const GOAL_WAN_RANDOM = 1.1
const GOAL_HTTP = 4

/**
 * The swarm table, per version: time until all nodes hold it / the ideal from the bytes that
 * really crossed the busiest branch link (link counters) at its rate plus a LAN copy; per
 * branch: bytes that entered its link / the raw delta (the version's new blocks, uncompressed),
 * and blocks stored from the WAN more than once in it (per-block log). Then the HTTP baseline of
 * v1 and the exports' check.
 */
export function swarmRows (init: RowsInit): Result[] {
  const { report, rateBytes } = init
  const nodes = report.nodes.filter(n => n.version === report.versions[0]?.version).length + 1
  const rows: Result[] = []
  for (const v of report.versions) {
    const branches = report.sites.filter(s => s.version === v.version && s.site !== 'dc')
    const busiest = Math.max(...branches.map(s => s.wanRxBytes))
    const ideal = busiest / rateBytes + v.deltaBytes / init.lanBytesPerS
    const ratio = v.seconds / ideal
    rows.push({
      name: `swarm ${v.version}: time until all ${nodes} nodes hold it`,
      value: v.seconds,
      unit: 's',
      baselineName: 'ideal: bytes into the busiest branch link / its rate + LAN copy',
      baseline: ideal,
      ratio,
      goal: `<= ${GOAL_TIME}`,
      met: ratio <= GOAL_TIME,
      ...(rows.length === 0 ? { note: init.note } : {})
    })
    const goal = init.osContent ? GOAL_WAN_OS : GOAL_WAN_RANDOM
    const what = v.version === 'v1' ? 'raw new blocks (the whole v1)' : `raw delta ${report.versions[0]?.version ?? 'v1'}->${v.version}`
    for (const s of branches) {
      const wan = s.wanRxBytes / s.deltaBytes
      rows.push({
        name: `swarm ${v.version}: WAN bytes into ${s.site} (link counters) / raw delta`,
        value: s.wanRxBytes / MB,
        unit: 'MB',
        baselineName: what,
        baseline: s.deltaBytes / MB,
        ratio: wan,
        goal: `<= ${goal}${init.osContent ? ' (OS content)' : ' (random content: incompressible)'}`,
        met: wan <= goal,
        note: `the swarm's own count of block bytes from other sites: ${(s.swarmWanWireBytes / MB).toFixed(1)} MB as they crossed (${(s.swarmWanBytes / MB).toFixed(1)} MB uncompressed); the link counters add protocol and TCP/IP overhead`
      })
    }
    for (const s of branches) {
      rows.push({
        name: `swarm ${v.version}: blocks stored from the WAN twice+ in ${s.site} (per-block log)`,
        value: s.dupBlocks,
        unit: 'blocks',
        baselineName: 'distinct blocks from the WAN',
        baseline: s.wanBlocks,
        ratio: s.wanBlocks === 0 ? 0 : s.dupBlocks / s.wanBlocks,
        goal: '0',
        met: s.dupBlocks === 0,
        ...(s.dupFetches > 0 ? { note: `${s.dupFetches} extra fetches` } : {})
      })
    }
  }
  const first = report.versions[0]
  if (first !== undefined) {
    const httpName = init.http.measured
      ? 'single HTTP server (node:http), same links, whole file'
      : `single HTTP server, lower bound (not measured): ${init.branchHosts} whole files over each branch link`
    rows.push({
      name: httpName,
      value: init.http.seconds,
      unit: 's',
      baselineName: `swarm ${first.version}`,
      baseline: first.seconds,
      ratio: init.http.seconds / first.seconds,
      goal: `>= ${GOAL_HTTP}`,
      met: init.http.seconds / first.seconds >= GOAL_HTTP,
      note: `the ${(init.http.fileBytes / 2 ** 20).toFixed(0)} MiB image file as it is, uncompressed${init.http.measured ? '' : '; BENCH_SWARM_HTTP=measure downloads it'}`
    })
  }
  rows.push({ name: 'swarm: exports bit-identical (SHA-256)', value: report.nodes.filter(n => n.sha256Ok).length, unit: 'exports', baseline: report.nodes.length, met: report.nodes.every(n => n.sha256Ok) })
  return rows
}
