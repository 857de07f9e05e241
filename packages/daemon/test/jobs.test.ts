import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { PullPausedError } from '@cachecloud/control'
import { FINISHED_JOBS_KEPT, NoPeersError } from '../src/index.js'
import { JobTracker } from '../src/jobs.js'
import { manualClock } from '@cachecloud/test-utils'

function deferred (): { promise: Promise<void>, resolve: () => void } {
  let settle = (): void => {}
  const promise = new Promise<void>(resolve => { settle = resolve })
  return { promise, resolve: () => { settle() } }
}

const event = (done: number, total: number): { type: 'pull:block', done: number, total: number, unit: 'bytes' } => ({ type: 'pull:block', done, total, unit: 'bytes' })

describe('daemon jobs (rate and ETA by the one rate window, on a hand-moved clock)', () => {
  it('a running job: no rate at first, then rate and ETA over the window, falling while it stalls; done: its average and ETA 0', async () => {
    const clock = manualClock(50_000)
    const jobs = new JobTracker(() => {}, clock.now)
    const forwarded: number[] = []
    const gate = deferred()
    let progress: (e: ReturnType<typeof event>) => void = () => {}
    const running = jobs.run('pull', 'os@1', (e) => { forwarded.push(e.done) }, async (onProgress) => {
      progress = onProgress
      await gate.promise
      return 'result'
    })
    progress(event(0, 10_000))
    assert.deepEqual(jobs.list().map(j => [j.state, j.rate, j.etaSeconds]), [['running', 0, null]], 'unknown rate: 0 and no ETA')
    clock.advance(1000)
    progress(event(2000, 10_000))
    const [job] = jobs.list()
    assert.equal(job.rate, 2000)
    assert.equal(job.etaSeconds, 4)
    assert.equal(job.done, 2000)
    clock.advance(3000) // nothing moves
    assert.equal(jobs.list()[0].rate, 500, 'read now: 2000 bytes over 4 s')
    progress(event(10_000, 10_000))
    gate.resolve()
    assert.equal(await running, 'result')
    const [finished] = jobs.list()
    assert.equal(finished.state, 'done')
    assert.equal(finished.rate, 2500, '10 000 bytes over the 4 s it ran')
    assert.equal(finished.etaSeconds, 0)
    assert.deepEqual(forwarded, [0, 2000, 10_000], 'every event is passed on')
  })

  it('a failed job keeps its error code and has no rate; a paused pull is `paused`, and takePaused hands it to the resumed pull', async () => {
    const clock = manualClock(50_000)
    const jobs = new JobTracker(() => {}, clock.now)
    await assert.rejects(jobs.run('pull', 'os@2', () => {}, async (onProgress) => {
      onProgress(event(0, 100))
      clock.advance(1000)
      onProgress(event(50, 100))
      throw new NoPeersError('no peer offers os@2')
    }), NoPeersError)
    await assert.rejects(jobs.run('pull', 'os@3', () => {}, async (onProgress) => {
      onProgress(event(30, 100))
      throw new PullPausedError('os@3 paused')
    }), PullPausedError)
    const [failed, paused] = jobs.list()
    assert.deepEqual([failed.state, failed.rate, failed.etaSeconds, failed.error], ['failed', 0, null, { code: 'ERR_NO_PEERS', kind: 'network', message: 'no peer offers os@2' }])
    assert.deepEqual([paused.state, paused.rate, paused.etaSeconds, paused.error], ['paused', 0, null, undefined])
    assert.equal(jobs.takePaused('os@3')?.done, 30)
    assert.deepEqual(jobs.list().map(j => j.ref), ['os@2'], 'the paused job is taken')
  })

  it(`keeps the last ${FINISHED_JOBS_KEPT} finished jobs, and every paused one`, async () => {
    const jobs = new JobTracker()
    await assert.rejects(jobs.run('pull', 'p@1', () => {}, async () => { throw new PullPausedError('paused') }))
    for (let i = 0; i < FINISHED_JOBS_KEPT + 3; i++) await jobs.run('import', `i@${i}`, () => {}, async () => i)
    const list = jobs.list()
    assert.equal(list.filter(j => j.state === 'done').length, FINISHED_JOBS_KEPT)
    assert.equal(list[0].ref, 'p@1')
    assert.equal(list.at(-1)?.ref, `i@${FINISHED_JOBS_KEPT + 2}`, 'the oldest finished went first')
  })
})
