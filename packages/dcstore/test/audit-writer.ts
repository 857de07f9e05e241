// Child process of audit.test.ts: appends COUNT audited actions to the audit log at DIR,
// signed with the key in KEYFILE; with `crash`, kills itself (SIGKILL) after the intent of an export.
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuditLog, parseAuditKey } from '../src/index.js'

const [dir, count, who, keyFile, mode] = process.argv.slice(2)
const log = new AuditLog(join(dir, 'audit.jsonl'), join(dir, 'audit.head'), { key: parseAuditKey(await readFile(keyFile, 'utf8')), operator: who })
if (mode === 'crash') {
  await log.run('export', { user: 'alice', to: '/case/1' }, async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}) }, () => ({}))
}
for (let i = 0; i < Number(count); i++) await log.run('search', { i }, async () => i, hits => ({ hits }))
