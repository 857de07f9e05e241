#!/usr/bin/env node
/**
 * `dcstore`: the data-center store of personal folders. Thin: parses
 * arguments and wires @cachecloud/dcstore and @cachecloud/network.
 */
import '@cachecloud/core/polyfill'
import { Command, CommanderError } from 'commander'
import { registerAdmin } from './commands/admin.js'
import { registerAudit } from './commands/audit.js'
import { registerCheck } from './commands/check.js'
import { registerDiscover } from './commands/discover.js'
import { registerMatter } from './commands/matter.js'
import { registerTextIndex } from './commands/text-index.js'
import { registerServe } from './commands/serve.js'
import type { GlobalOptions } from './context.js'
import { EXIT, exitCodeFor } from './exit-codes.js'

const program = new Command('dcstore')
  .description('CacheCloud data-center store: personal snapshots, enrollment, legal discovery, audit')
  .option('--data <dir>', 'data directory (default $DCSTORE_HOME or ./dcstore-data)')
  .option('--discovery-key <file>', 'the organization\'s discovery key file (from `dcstore keygen`)')
  .option('--audit-key <file>', 'the audit log\'s signing key (from `dcstore audit keygen`; default $DCSTORE_AUDIT_KEY), kept outside the data directory: audited commands refuse to run without it')
  .option('--operator <name>', 'who you are, recorded in the audit log beside the OS user running the command (default $DCSTORE_OPERATOR)')
  .option('--index-url <url>', 'PostgreSQL index (postgres://...; default $DCSTORE_INDEX_URL, else SQLite in the data directory)')
  .option('--blocks <backend>', 'where the blocks live: local (default: <data>/blocks, one serving process), shared-fs:/PATH (a NAS mount, several processes), s3://BUCKET/PREFIX/?endpoint=URL (credentials from $AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY); default $DCSTORE_BLOCKS')
  .option('--json', 'print results as JSON')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')

const globals = (): GlobalOptions => program.opts<GlobalOptions>()
registerServe(program, globals)
registerAdmin(program, globals)
registerAudit(program, globals)
registerCheck(program, globals)
registerDiscover(program, globals)
registerMatter(program, globals)
registerTextIndex(program, globals)
for (const command of program.commands.flatMap(c => [c, ...c.commands])) command.exitOverride()

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage
  } else {
    process.stderr.write(`dcstore: ${err instanceof Error ? err.message : String(err)}\n`)
    process.exitCode = exitCodeFor(err)
  }
}
