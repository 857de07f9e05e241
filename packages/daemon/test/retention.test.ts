import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { ConfigError, parseConfig } from '../src/index.js'
import { applyRetention, newerThanCutoff, type RetentionVersion } from '../src/retention.js'

const parse = (extra: Record<string, unknown>): ReturnType<typeof parseConfig> => parseConfig(JSON.stringify({ dataDir: '/d', ...extra }), '/d/config.json')

function refuses (extra: Record<string, unknown>, pattern: RegExp): void {
  assert.throws(() => parse(extra), (err: Error) => {
    assert.ok(err instanceof ConfigError)
    assert.equal(err.message.split('\n').length, 1)
    assert.match(err.message, pattern)
    return true
  })
}

const DAY = 86_400_000
const NOW = Date.parse('2026-12-01T12:00:00Z')
const v = (version: string, daysAgo: number, state: RetentionVersion['state'] = 'complete'): RetentionVersion =>
  ({ name: 'win11', version, state, createdAt: new Date(NOW - daysAgo * DAY).toISOString() })

describe('retention config', () => {
  it('reads per-image policies and a "*" default', () => {
    const config = parse({ retention: { win11: { keepLast: 3 }, '*': { keepNewerThan: '30d' }, ubuntu: { keepLast: 1, keepNewerThan: '2026-11-01' } } })
    assert.deepEqual(config.retention?.win11, { keepLast: 3 })
  })

  it('refuses unknown keys (with a suggestion), bad counts, bad dates and empty policies, each in one line', () => {
    refuses({ retention: { win11: { keepLst: 3 } } }, /unknown key retention\.win11\.keepLst \(did you mean retention\.win11\.keepLast\?\)/)
    refuses({ retention: { win11: { keepLast: 0 } } }, /"keepLast" must be a whole number of versions, at least 1/)
    refuses({ retention: { win11: { keepLast: 1.5 } } }, /"keepLast" must be a whole number/)
    refuses({ retention: { win11: { keepNewerThan: 'last tuesday' } } }, /"retention\.win11\.keepNewerThan" must be a date \(2026-11-01\) or a duration/)
    refuses({ retention: { win11: {} } }, /"retention\.win11" needs "keepLast" or "keepNewerThan"/)
    refuses({ retention: { 'bad name/..': { keepLast: 1 } } }, /"retention": "bad name\/\.\." is not an image name/)
    refuses({ retention: [1] }, /"retention" must map image names/)
  })
})

describe('applyRetention', () => {
  it('keeps the last N complete versions; pulling and in-use versions are always kept', () => {
    const plan = applyRetention({
      versions: [v('v1', 40), v('v2', 30), v('v3', 20), v('v4', 10), v('v5', 1, 'pulling')],
      rule: { keepLast: 2 },
      now: NOW,
      inUse: new Map([['win11@v1', 'served over NBD at 127.0.0.1:10809']]),
      subscribed: false
    })
    assert.deepEqual(plan.remove.map(d => d.ref), ['win11@v2'])
    assert.deepEqual(plan.keep, [
      { ref: 'win11@v5', reasons: ['not complete'] },
      { ref: 'win11@v4', reasons: ['last 2'] },
      { ref: 'win11@v3', reasons: ['last 2'] },
      { ref: 'win11@v1', reasons: ['served over NBD at 127.0.0.1:10809'] }
    ])
  })

  it('keepNewerThan takes a duration back from now or a date; either rule keeps a version', () => {
    const versions = [v('v1', 40), v('v2', 25), v('v3', 5)]
    const byAge = applyRetention({ versions, rule: { keepNewerThan: '30d' }, now: NOW, inUse: new Map(), subscribed: false })
    assert.deepEqual(byAge.remove.map(d => d.ref), ['win11@v1'])
    const byDate = applyRetention({ versions, rule: { keepNewerThan: '2026-11-20', keepLast: 1 }, now: NOW, inUse: new Map(), subscribed: false })
    assert.deepEqual(byDate.remove.map(d => d.ref), ['win11@v2', 'win11@v1'], 'newest first')
    assert.equal(newerThanCutoff('12h', NOW), NOW - 12 * 3_600_000)
    assert.equal(newerThanCutoff('2w', NOW), NOW - 14 * DAY)
    assert.equal(newerThanCutoff('soon', NOW), undefined)
  })

  it('never removes the last complete version of a subscribed image, even when every rule lets it go', () => {
    const plan = applyRetention({ versions: [v('v1', 90), v('v2', 60)], rule: { keepNewerThan: '30d' }, now: NOW, inUse: new Map(), subscribed: true })
    assert.deepEqual(plan.remove.map(d => d.ref), ['win11@v1'])
    assert.deepEqual(plan.keep, [{ ref: 'win11@v2', reasons: ['only complete version of a subscribed image'] }])
  })
})
