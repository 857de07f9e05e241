import assert from 'node:assert/strict'
import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { promisify } from 'node:util'
import { after, describe, it } from 'node:test'
import type { StatusInfo } from '@cachecloud/control'
import type { RolloutCounts, RolloutView } from '@cachecloud/swarm'

import { SimNode } from '../src/cluster.js'
import { startDaemonFleet, type Fleet } from '../src/fleet.js'
import { canMakeNamespaces, destroyTopology, setLink, type SiteSpec } from '../src/netns.js'
import { countBySite, lagProblems, ownState, viewCounts, RolloutRecorder, type ViewSample } from '../src/rollout-watch.js'

const check = await canMakeNamespaces()
const run = promisify(execFile)
const CLI_JS = fileURLToPath(new URL('../../../apps/cachepoint/dist/src/cli.js', import.meta.url))

const prefix = `ccr${process.pid % 10000}`
/** The reporting interval the daemons are configured with ("rolloutIntervalSeconds"). */
const INTERVAL_S = 2
const INTERVAL = INTERVAL_S * 1000
/** Gossip delivery and the time to ask 16 nodes, on two loaded cores: added to every "within one interval". */
const SLACK = 1000
/** A node is offline in the view after this many silent intervals (packages/swarm ROLLOUT_OFFLINE_AFTER_INTERVALS). */
const OFFLINE_AFTER = 3
const REF = 'os@v1'
/**
 * A node whose link was cut for OFFLINE_AFTER intervals and more is back in the view within this after the link
 * returns: its old connection to the publisher ends (a ping times out within 10 s and its own timeout, or TCP's
 * retransmission meets the publisher's reset), it dials again (every 4 s) and its next report goes out. Passing runs
 * take 0.6-6.5 s. CI on 2026-12-04 saw "never" (and, with 20 s here, two runs saw nothing within 20 s): the publisher
 * forgot the laptop when its own end of the old connection failed after the laptop had redialled (packages/network,
 * keepPubsubStreams; its test reproduces that).
 */
const BACK_WITHIN = 45_000
const SITES: SiteSpec[] = [
  { name: 'dc', hosts: 2 },
  { name: 'branch-a', hosts: 6, wanRate: '40mbit' },
  { name: 'branch-b', hosts: 6, wanRate: '40mbit' },
  // slow enough that a laptop can be caught mid-pull: 4 MiB take about 4 s
  { name: 'laptops', hosts: 0, laptops: 2, wanRate: '8mbit' }
]
const SITE_NAMES = SITES.map(s => s.name)

describe('rollout view across 16 daemons in 4 sites (namespaces)', () => {
  // a test timeout ends the process before the test's own teardown runs
  after(async () => { if (check.ok) await destroyTopology(prefix) })

  it('the publisher\'s counts per site and state match the nodes\' own status within one reporting interval; a cut laptop and a stopped node are offline with when last seen; one report per node per interval', { skip: check.ok ? false : check.why, timeout: 240_000 }, async (t) => {
    const began = Date.now()
    const say = (line: string): void => { t.diagnostic(`${((Date.now() - began) / 1000).toFixed(1)} s ${line}`) }
    const dir = await mkdtemp(join(tmpdir(), 'cc-rollout-'))
    let fleet: Fleet | undefined
    let observer: SimNode | undefined
    let recorder: RolloutRecorder | undefined
    try {
      const image = join(dir, 'v1.raw')
      await writeFile(image, randomBytes(4 << 20))
      fleet = await startDaemonFleet({ prefix, dir, sites: SITES, rolloutIntervalSeconds: INTERVAL_S, startBatch: 8, log: say })
      const f = fleet
      say(`16 daemons up: ${f.nodes.map(n => n.host.name).join(' ')}`)
      const hostOf = new Map(f.nodes.map(n => [n.peerId, n]))
      // a second collector in the publisher's namespace, connected to the publisher only (which passes every report on to
      // it): counts the reports each node sends. No site label and no other peers: a peer of the data center's site that
      // does not answer have requests holds the site's WAN requests back (the swarm waits for its first answer)
      observer = new SimNode({ ...f.publisher.host, name: 'observer' }, {
        dataDir: join(dir, 'observer'), listen: [`/ip4/${f.publisher.host.ip}/tcp/4002`], site: '', trust: [], networkKeyFile: f.networkKeyFile, bootstrap: [f.publisher.addr], subscriptions: [{ name: 'os' }]
      }, dir, 'observer')
      await observer.start()
      say('observer up')

      const [laptop1, laptop2] = f.nodes.filter(n => n.host.laptop)
      const [stopped, , , , idle1, idle2] = f.nodes.filter(n => n.host.site === 'branch-b')
      // two of branch B are paused before the publish: they stay "not started"
      await Promise.all([idle1, idle2].map(async n => await n.call({ cmd: 'pause' })))
      recorder = new RolloutRecorder(f.publisher, f.nodes, REF)
      const rec = recorder
      rec.start()
      say('two of branch B paused')

      /** Expected counts from the latest own samples (and the nodes known to be offline), then polls the view until it shows them. */
      const expectCounts = async (moment: string, offline: SimNode[], deadline: number): Promise<RolloutView> => {
        await rec.nextRound()
        const asOf = Date.now()
        const states = f.nodes.map(n => ({ site: n.host.site, state: offline.includes(n) ? 'offline' as const : rec.latest(n.host.name)?.state ?? 'not-started' }))
        const want = countBySite(states, SITE_NAMES)
        let seen: Record<string, RolloutCounts> | undefined
        let view: RolloutView | undefined
        while (true) {
          await rec.nextRound()
          const last = rec.lastView()
          if (last !== undefined && last.t0 >= asOf) {
            view = last.view
            seen = viewCounts(view, SITE_NAMES)
            if (JSON.stringify(seen) === JSON.stringify(want)) break
          }
          if (Date.now() > deadline) assert.deepEqual(seen, want, `${moment}: the view (asked by ${Date.now() - asOf} ms after the nodes) still differs from the nodes' own status`)
        }
        say(`${moment}: view matches the nodes after ${Date.now() - asOf} ms: ${SITE_NAMES.map(s => `${s} ${want[s].complete}/${want[s].pulling}/${want[s].notStarted}/${want[s].offline}`).join(', ')} (complete/pulling/not started/offline)`)
        return view
      }

      // moment 0: nothing imported, nobody has os@v1; asking starts the publisher collecting and every node reports soon
      const t0 = Date.now()
      // (each node learns of the new collector from gossipsub's subscription exchange first: allowed OFFLINE_AFTER intervals)
      let v = await expectCounts('before import', [], t0 + OFFLINE_AFTER * INTERVAL + SLACK)
      assert.equal(v.reportIntervalSeconds, INTERVAL_S, 'the daemon config\'s interval reaches the swarm')
      const collecting = Date.now()

      await f.publisher.call({ cmd: 'import', file: image, name: 'os', version: 'v1' })
      await f.publisher.call({ cmd: 'publish', ref: REF })
      const published = Date.now()
      say('os@v1 imported and published')

      // catch each laptop mid-pull: pause one, cut the other's link
      let cutAt = 0
      const caught = new Set<SimNode>()
      while (caught.size < 2) {
        await rec.nextRound()
        for (const laptop of [laptop1, laptop2]) {
          const own = rec.latest(laptop.host.name)
          if (caught.has(laptop) || own === undefined) continue
          assert.notEqual(own.state, 'complete', `${laptop.host.name} completed before it could be caught mid-pull`)
          if (own.state !== 'pulling' || (own.percent ?? 0) === 0) continue
          caught.add(laptop)
          if (laptop === laptop1) await laptop.call({ cmd: 'pause' })
          else {
            rec.unwatched.add(laptop.host.name)
            await setLink(f.topo, laptop.host, false)
            cutAt = Date.now()
          }
          say(`${laptop.host.name} at ${String(own.percent)}%: ${laptop === laptop1 ? 'paused' : 'link cut'}`)
        }
        assert.ok(Date.now() - published < 60_000, 'the laptops never started pulling')
      }

      // moment 2: the data center and both branches done but the two paused, laptop 1 paused mid-pull, laptop 2 silent,
      const settled = (names: SimNode[]): boolean => names.every(n => rec.latest(n.host.name)?.state === 'complete')
      const others = f.nodes.filter(n => !n.host.laptop && n !== idle1 && n !== idle2)
      while (!settled(others)) {
        assert.ok(Date.now() - published < 90_000, `not complete: ${others.filter(n => !settled([n])).map(n => n.host.name).join(', ')}`)
        await rec.nextRound()
      }
      say('dc, branch A and branch B (but the paused two) complete')
      // and a complete branch-B node stops (SIGTERM): offline after OFFLINE_AFTER intervals, not before two
      rec.unwatched.add(stopped.host.name)
      const stoppedAt = Date.now() // its last report went out at most an interval before this
      await stopped.stop()
      say(`${stopped.host.name} stopped`)
      v = await expectCounts('mid-rollout', [laptop2, stopped], Math.max(Date.now(), cutAt + OFFLINE_AFTER * INTERVAL, stoppedAt + OFFLINE_AFTER * INTERVAL) + INTERVAL + SLACK)
      const node = (view: RolloutView, n: SimNode): RolloutView['sites'][number]['nodes'][number] | undefined => view.sites.flatMap(s => s.nodes).find(x => x.peer === n.peerId)
      const paused = rec.latest(laptop1.host.name)
      assert.equal(node(v, laptop1)?.percent, paused?.percent, 'the paused laptop\'s percent as its own status says')
      const gone = node(v, laptop2)
      assert.ok(gone !== undefined && Date.parse(gone.lastSeen) >= cutAt - INTERVAL - SLACK && Date.parse(gone.lastSeen) <= cutAt + SLACK, `cut at ${new Date(cutAt).toISOString()}, last seen ${String(gone?.lastSeen)}`)
      const firstOffline = rec.views.find(s => s.t0 >= stoppedAt && node(s.view, stopped)?.state === 'offline')
      assert.ok(firstOffline !== undefined && firstOffline.t1 >= stoppedAt + (OFFLINE_AFTER - 1) * INTERVAL, `offline ${String((firstOffline?.t1 ?? 0) - stoppedAt)} ms after the stop`)
      // the laptop itself (its control API inside its namespace) still says it is pulling
      assert.equal(ownState(await laptop2.call<StatusInfo>({ cmd: 'status' }), REF).state, 'pulling')
      // the CLI says the same as the control API
      const cli = JSON.parse((await run('ip', ['netns', 'exec', f.publisher.host.ns, process.execPath, CLI_JS, '--data-dir', f.publisher.config.dataDir, '--json', 'image', 'rollout', REF])).stdout) as RolloutView
      assert.deepEqual(viewCounts(cli, SITE_NAMES), viewCounts(v, SITE_NAMES), '`image rollout --json`')

      // moment 3: the link back, the paused resumed: every running node complete
      await setLink(f.topo, laptop2.host, true)
      const restoredAt = Date.now()
      rec.unwatched.delete(laptop2.host.name)
      await Promise.all([laptop1, idle1, idle2].map(async n => await n.call({ cmd: 'resume' })))
      say('laptop 2\'s link restored; laptop 1 and the two of branch B resumed')
      const running = f.nodes.filter(n => n !== stopped)
      while (!settled(running)) {
        assert.ok(Date.now() - restoredAt < 60_000, `not complete: ${running.filter(n => !settled([n])).map(n => n.host.name).join(', ')}`)
        await rec.nextRound()
      }
      // back once TCP retransmits on the restored link (its backoff grows with the cut) and the next report goes out.
      // Waited for up to BACK_WITHIN, not only until every node is complete: a laptop that finishes its pull within
      // seconds of the link's return can be complete before the publisher's view has seen its next report.
      const backInView = (): ViewSample | undefined => rec.views.find(s => s.t0 >= restoredAt && node(s.view, laptop2)?.state !== 'offline')
      while (backInView() === undefined && Date.now() - restoredAt <= BACK_WITHIN) await rec.nextRound()
      const back = backInView()
      assert.ok(back !== undefined && back.t1 - restoredAt <= BACK_WITHIN, `laptop 2 back in the view ${back === undefined ? 'never' : `${back.t1 - restoredAt} ms`} after its link came back`)
      say(`laptop 2 back in the view ${back.t1 - restoredAt} ms after its link came back`)
      v = await expectCounts('all complete', [stopped], Date.now() + INTERVAL + SLACK)
      assert.equal(v.totals.complete, 15)
      const ended = Date.now()
      await rec.stop()

      // continuously: every node that stayed reachable was shown as it was at most one interval (+ slack) before
      const heard = await observer.call<Record<string, number[]>>({ cmd: 'reports' })
      const window = INTERVAL + SLACK
      const problems: string[] = []
      let excused = 0
      for (const n of f.nodes) {
        const upTo = n === stopped ? stoppedAt : ended
        const down = n === laptop2 ? [cutAt, back.t1] : undefined
        const shown = rec.views
          .filter(s => s.t0 >= collecting + window && s.t1 <= upTo && (down === undefined || s.t1 < down[0] || s.t0 > down[1]))
          .map(s => ({ t0: s.t0, t1: s.t1, state: node(s.view, n)?.state }))
        const own = rec.own.get(n.host.name) ?? []
        const checked = lagProblems(own, shown, window, OFFLINE_AFTER * INTERVAL, INTERVAL)
        excused += checked.excused
        for (const p of checked.problems) {
          // what else was seen then: when the observer (the other collector) heard the node, how long its own status took
          const near = (at: number): boolean => at >= p.t - 10_000 && at <= p.t + 2_000
          const arrivals = (heard[n.peerId] ?? []).filter(near).map(at => at - p.t)
          const slowest = Math.max(0, ...own.filter(s => near(s.t0)).map(s => s.t1 - s.t0))
          problems.push(`${n.host.name} at ${new Date(p.t).toISOString()}: ${p.problem}; the observer heard it at ${arrivals.join(', ')} ms; its status took up to ${slowest} ms`)
        }
      }
      const transitions = f.nodes.flatMap(n => {
        const own = rec.own.get(n.host.name)?.find(s => s.state === 'complete')
        const shown = rec.views.find(s => node(s.view, n)?.state === 'complete')
        return own === undefined || shown === undefined || n === f.publisher ? [] : [shown.t1 - own.t1]
      })
      say(`${rec.views.length} views checked (${excused} node-views offline while the node was starved: its status took over an interval); complete shown ${Math.min(...transitions)}..${Math.max(...transitions)} ms after the node's own status said so (interval ${INTERVAL} ms)`)

      // each node sent one report per interval (the observer hears every report on the topic), not one per peer
      const span = (ended - published) / INTERVAL
      const perInterval = f.nodes.filter(n => n !== stopped && n !== laptop2).map(n => ({
        n,
        count: (heard[n.peerId] ?? []).filter(at => at >= published && at <= ended).length / span
      }))
      const gaps = f.nodes.filter(n => n !== stopped && n !== laptop2).map(n => {
        const at = (heard[n.peerId] ?? []).filter(x => x >= published && x <= ended)
        return `${n.host.name} ${Math.max(0, ...at.slice(1).map((x, i) => x - at[i]))}`
      })
      say(`longest silence between two reports (ms): ${gaps.join(', ')}`)
      say(`reports per node per interval over ${span.toFixed(1)} intervals: ${perInterval.map(p => p.count.toFixed(2)).join(' ')}; senders heard: ${Object.keys(heard).filter(p => hostOf.has(p)).length}`)
      assert.deepEqual(problems, [], 'the view lagged the nodes by more than one interval, or showed a reachable node offline')
      for (const { n, count } of perInterval) assert.ok(count >= 0.5 && count <= 1.3, `${n.host.name}: ${count.toFixed(2)} reports per interval (15 peers: O(peers) would be about 15)`)
      say(`done in ${((Date.now() - began) / 1000).toFixed(1)} s`)
    } finally {
      await recorder?.stop()
      if (process.env.CACHECLOUD_SIM_KEEP === '1') {
        // for a look afterwards: every sample, and when the observer heard each node
        const names = Object.fromEntries((fleet?.nodes ?? []).map(n => [n.peerId, n.host.name]))
        const heard = observer?.running === true ? await observer.call<Record<string, number[]>>({ cmd: 'reports' }).catch(() => ({})) : {}
        await writeFile(join(dir, 'rollout-samples.json'), JSON.stringify({ names, heard, own: Object.fromEntries(recorder?.own ?? []), views: recorder?.views ?? [] }))
      }
      await observer?.stop()
      await fleet?.stop()
      if (process.env.CACHECLOUD_SIM_KEEP === '1') t.diagnostic(`kept ${dir}`)
      else await rm(dir, { recursive: true, force: true })
    }
  })
})
