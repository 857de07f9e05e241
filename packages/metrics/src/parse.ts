import { MetricsParseError } from './errors.js'

/** One sample line: name, labels, value. */
export interface Sample { name: string, labels: Record<string, string>, value: number }
/** A metric family: its TYPE, HELP and samples (histogram series included). */
export interface MetricFamily { name: string, type: string, help: string, samples: Sample[] }

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const LABEL = /^[a-zA-Z_][a-zA-Z0-9_]*$/
const TYPES = new Set(['counter', 'gauge', 'histogram', 'summary', 'untyped'])
const SUFFIXES: Record<string, string[]> = { histogram: ['_bucket', '_sum', '_count'], summary: ['_sum', '_count'], counter: ['_total', ''] }

function value (text: string, where: string): number {
  // as Prometheus parses it (Go's ParseFloat): Inf and NaN in any case (prom-client writes "Nan")
  const t = text.toLowerCase()
  if (t === '+inf' || t === 'inf') return Infinity
  if (t === '-inf') return -Infinity
  if (t === 'nan') return NaN
  if (!/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw new MetricsParseError(`${where}: "${text}" is not a number`)
  return Number(text)
}

function labels (text: string, where: string): Record<string, string> {
  const out: Record<string, string> = {}
  let i = 0
  while (i < text.length) {
    const eq = text.indexOf('=', i)
    if (eq < 0) throw new MetricsParseError(`${where}: label without "="`)
    const name = text.slice(i, eq).trim()
    if (!LABEL.test(name)) throw new MetricsParseError(`${where}: bad label name "${name}"`)
    if (text[eq + 1] !== '"') throw new MetricsParseError(`${where}: label ${name} value not quoted`)
    let j = eq + 2
    let v = ''
    for (; j < text.length && text[j] !== '"'; j++) {
      if (text[j] === '\\') {
        const next = text[++j]
        if (next === 'n') v += '\n'
        else if (next === '\\' || next === '"') v += next
        else throw new MetricsParseError(`${where}: bad escape \\${next ?? ''} in label ${name}`)
      } else if (text[j] === '\n') throw new MetricsParseError(`${where}: newline in label ${name}`)
      else v += text[j]
    }
    if (j >= text.length) throw new MetricsParseError(`${where}: label ${name} value not closed`)
    if (name in out) throw new MetricsParseError(`${where}: label ${name} twice`)
    out[name] = v
    i = j + 1
    if (text[i] === ',') i++
    else if (i < text.length) throw new MetricsParseError(`${where}: expected "," after label ${name}`)
  }
  return out
}

function familyOf (families: Map<string, MetricFamily>, name: string): MetricFamily | undefined {
  if (families.has(name)) return families.get(name)
  for (const suffix of ['_bucket', '_sum', '_count', '_total']) {
    if (!name.endsWith(suffix)) continue
    const f = families.get(name.slice(0, -suffix.length))
    if (f !== undefined && (SUFFIXES[f.type] ?? []).includes(suffix)) return f
  }
  return undefined
}

/**
 * Parses the Prometheus text exposition format (version 0.0.4) strictly: every
 * sample belongs to a family declared by TYPE before it, names, labels, escapes
 * and values are valid, and each histogram's buckets are cumulative and end in
 * +Inf equal to its _count. Throws MetricsParseError naming the line.
 */
export function parsePrometheusText (text: string): Map<string, MetricFamily> {
  const families = new Map<string, MetricFamily>()
  if (text !== '' && !text.endsWith('\n')) throw new MetricsParseError('the exposition must end with a newline')
  text.split('\n').forEach((line, n) => {
    const where = `line ${n + 1}`
    if (line.trim() === '') return
    if (line.startsWith('#')) {
      const m = /^# (HELP|TYPE) (\S+) ?(.*)$/.exec(line)
      if (m === null) return // a comment
      const [, kind, name, rest] = m
      if (!NAME.test(name)) throw new MetricsParseError(`${where}: bad metric name "${name}"`)
      const f = families.get(name) ?? { name, type: 'untyped', help: '', samples: [] }
      if (kind === 'TYPE') {
        if (!TYPES.has(rest)) throw new MetricsParseError(`${where}: unknown type "${rest}"`)
        if (f.samples.length > 0 || (families.has(name) && f.type !== 'untyped')) throw new MetricsParseError(`${where}: TYPE of ${name} after its samples or twice`)
        f.type = rest
      } else f.help = rest
      families.set(name, f)
      return
    }
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)(?: (-?\d+))?$/.exec(line)
    if (m === null) throw new MetricsParseError(`${where}: not a sample: ${line.slice(0, 80)}`)
    const [, name, labelText, valueText] = m
    const f = familyOf(families, name)
    if (f === undefined) throw new MetricsParseError(`${where}: sample ${name} has no TYPE before it`)
    f.samples.push({ name, labels: labels(labelText ?? '', where), value: value(valueText, where) })
  })
  for (const f of families.values()) if (f.type === 'histogram') checkHistogram(f)
  return families
}

function checkHistogram (f: MetricFamily): void {
  const series = new Map<string, { buckets: Array<[number, number]>, count?: number }>()
  for (const s of f.samples) {
    const { le, ...rest } = s.labels
    const key = JSON.stringify(Object.entries(rest).sort())
    const entry = series.get(key) ?? { buckets: [] }
    series.set(key, entry)
    if (s.name.endsWith('_bucket')) {
      if (le === undefined) throw new MetricsParseError(`${f.name}: a bucket without le`)
      entry.buckets.push([value(le, f.name), s.value])
    } else if (s.name.endsWith('_count')) entry.count = s.value
  }
  for (const { buckets, count } of series.values()) {
    for (let i = 1; i < buckets.length; i++) {
      if (!(buckets[i][0] > buckets[i - 1][0]) || buckets[i][1] < buckets[i - 1][1]) throw new MetricsParseError(`${f.name}: buckets not increasing and cumulative`)
    }
    const last = buckets[buckets.length - 1]
    if (last === undefined || last[0] !== Infinity || last[1] !== count) throw new MetricsParseError(`${f.name}: no +Inf bucket equal to _count`)
  }
}
