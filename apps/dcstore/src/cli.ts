#!/usr/bin/env node
/**
 * `dcstore`: the data-center store of personal folders. Thin: parses
 * arguments and wires @cachecloud/dcstore and @cachecloud/network.
 */
import '@cachecloud/core/polyfill'
import { Command, CommanderError } from 'commander'
import { registerAdmin } from './commands/admin.js'
import { registerDiscover } from './commands/discover.js'
import { registerServe } from './commands/serve.js'
import type { GlobalOptions } from './context.js'
import { EXIT, exitCodeFor } from './exit-codes.js'

const program = new Command('dcstore')
  .description('CacheCloud data-center store: personal snapshots, enrollment, legal discovery, audit')
  .option('--data <dir>', 'data directory (default $DCSTORE_HOME or ./dcstore-data)')
  .option('--discovery-key <file>', 'the organization\'s discovery key file (from `dcstore keygen`)')
  .option('--operator <name>', 'who runs the command, for the audit log (default $DCSTORE_OPERATOR or the OS user)')
  .option('--index-url <url>', 'PostgreSQL index (postgres://...; default $DCSTORE_INDEX_URL, else SQLite in the data directory)')
  .option('--json', 'print results as JSON')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')

const globals = (): GlobalOptions => program.opts<GlobalOptions>()
registerServe(program, globals)
registerAdmin(program, globals)
registerDiscover(program, globals)
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
