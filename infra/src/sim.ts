/**
 * `npm run sim`: builds the multi-site network in namespaces, runs the
 * standard scenario and prints the per-node and per-site table. Tears
 * everything down on success, failure and Ctrl-C.
 */
import { canMakeNamespaces, destroyTopology } from './netns.js'
import { formatReport, runScenario } from './scenario.js'

const prefix = `ccs${process.pid % 10000}`
const check = await canMakeNamespaces()
if (!check.ok) {
  console.log(`sim skipped: ${check.why}`)
  process.exit(0)
}
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    console.error(`\n${signal}: tearing down`)
    void destroyTopology(prefix).finally(() => process.exit(130))
  })
}
const arg = (name: string): string | undefined => { const i = process.argv.indexOf(`--${name}`); return i > 0 ? process.argv[i + 1] : undefined }
try {
  const report = await runScenario({
    prefix,
    sizeMiB: Number(arg('size') ?? 64),
    wanRate: arg('rate') ?? '40mbit',
    laptopCutMs: Number(arg('laptop-cut-ms') ?? 3000),
    hostsPerBranch: Number(arg('hosts') ?? 3),
    ...(arg('kill-after-ms') !== undefined ? { killAfterMs: Number(arg('kill-after-ms')) } : {}),
    keep: process.argv.includes('--keep'),
    nodes: process.argv.includes('--runner') ? 'runner' : 'daemon',
    log: line => { console.error(`[sim] ${line}`) }
  })
  console.log(formatReport(report))
  const bad = report.nodes.filter(n => !n.sha256Ok)
  process.exit(bad.length > 0 ? 1 : 0)
} catch (err) {
  console.error(`sim failed: ${(err as Error).message}`)
  await destroyTopology(prefix)
  process.exit(1)
}
