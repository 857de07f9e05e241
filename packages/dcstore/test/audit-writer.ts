// Child process of audit.test.ts: appends COUNT audited actions to the audit log at DIR,
// signed with the key in KEYFILE; with `crash`, kills itself (SIGKILL) after the intent of an export;
// with a PG_URL, each append also holds the store's PostgreSQL advisory lock (as store processes behind one index do).
import { readFile } from 'node:fs/promises'
import { join } from 'node:path'
import { AuditLog, parseAuditKey } from '../src/index.js'
import { AUDIT_PG_LOCK_KEY } from '../src/constants.js'
import { PgAdvisoryLock } from '../src/pg-lock.js'

const [dir, count, who, keyFile, mode, pgUrl] = process.argv.slice(2)
const lock = pgUrl === undefined || pgUrl === '' ? undefined : new PgAdvisoryLock({ connectionString: pgUrl }, AUDIT_PG_LOCK_KEY)
const log = new AuditLog(join(dir, 'audit.jsonl'), join(dir, 'audit.head'), {
  key: parseAuditKey(await readFile(keyFile, 'utf8')), operator: who, ...(lock === undefined ? {} : { serialize: async <T>(fn: () => Promise<T>): Promise<T> => await lock.run(fn) })
})
if (mode === 'crash') {
  await log.run('export', { user: 'alice', to: '/case/1' }, async () => { process.kill(process.pid, 'SIGKILL'); await new Promise(() => {}) }, () => ({}))
}
for (let i = 0; i < Number(count); i++) await log.run('search', { i }, async () => i, hits => ({ hits }))
await lock?.stop()
