// Child process of audit.test.ts: appends COUNT entries to the audit log at DIR.
import { join } from 'node:path'
import { AuditLog } from '../src/index.js'

const [dir, count, who] = process.argv.slice(2)
const log = new AuditLog(join(dir, 'audit.jsonl'), join(dir, 'audit.head'))
for (let i = 0; i < Number(count); i++) await log.append(who, 'search', { i }, { hits: i })
