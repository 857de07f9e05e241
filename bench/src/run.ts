#!/usr/bin/env node
/**
 * `npm run bench`: runs every benchmark module and prints one table of
 * figures beside the baselines measured in the same run. `BENCH=name,name`
 * picks modules; results also go to bench/results/latest.json.
 */
import '@cachecloud/core/polyfill'
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import type { BenchModule, BenchResult } from './types.js'

const MODULES = ['compression', 'import', 'transfer', 'transport', 'pull-procs', 'delta', 'block-size', 'personal', 'swarm', 'nbd', 'vm-boot', 'os-update', 'check', 'clones', 'dcstore-scale']

function fmt (n: number | undefined, digits = 3): string {
  if (n === undefined) return ''
  return Math.abs(n) >= 100 ? n.toFixed(0) : n.toPrecision(digits)
}

const wanted = process.env.BENCH?.split(',') ?? MODULES
const results: BenchResult[] = []
for (const name of MODULES.filter(m => wanted.includes(m))) {
  process.stderr.write(`bench: ${name} ...\n`)
  const mod = await import(`./${name}.js`) as BenchModule
  results.push(...await mod.run())
}

const header = ['figure', 'value', 'baseline', 'ratio', 'goal', 'met']
const rows = results.map(r => [
  r.name,
  `${fmt(r.value)} ${r.unit}`,
  r.baselineName === undefined ? '' : `${fmt(r.baseline)} ${r.unit} (${r.baselineName})`,
  fmt(r.ratio),
  r.goal ?? '',
  r.met === undefined ? '' : r.met ? 'yes' : 'NO'
])
const widths = header.map((h, i) => Math.max(h.length, ...rows.map(row => row[i].length)))
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd()
process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n')
for (const r of results.filter(r => r.note !== undefined)) process.stdout.write(`- ${r.name}: ${r.note ?? ''}\n`)

const dir = fileURLToPath(new URL('../../results/', import.meta.url))
await mkdir(dir, { recursive: true })
await writeFile(`${dir}latest.json`, JSON.stringify({ at: new Date().toISOString(), results }, null, 2))
