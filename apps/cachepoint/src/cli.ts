#!/usr/bin/env node
import '@cachecloud/core/polyfill'
import { Command, CommanderError } from 'commander'
import { escapeControl } from '@cachecloud/core/escape'
import { registerControl } from './commands/control.js'
import { registerDaemon } from './commands/daemon.js'
import { registerImage } from './commands/image.js'
import { registerInit } from './commands/init.js'
import { registerNetworkKey } from './commands/network-key.js'
import { registerPersonal } from './commands/personal.js'
import { registerStatus } from './commands/status.js'
import { registerUi } from './commands/ui.js'
import { EXIT, exitCodeFor } from './exit-codes.js'
import type { GlobalOptions } from './paths.js'

const program = new Command('cachepoint')
  .description('CacheCloud CachePoint: block-level gold-image distribution over libp2p')
  .option('-d, --data-dir <dir>', 'data directory (default $CACHEPOINT_HOME or ~/.cachepoint)')
  .option('-c, --config <file>', 'config file (default DATA_DIR/config.json, or $CACHEPOINT_CONFIG)')
  .option('--json', 'print results as JSON for scripts')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')

const globals = (): GlobalOptions => program.opts<GlobalOptions>()
registerInit(program, globals)
registerNetworkKey(program, globals)
registerDaemon(program, globals)
registerImage(program, globals)
registerStatus(program, globals)
registerControl(program, globals)
registerPersonal(program, globals)
registerUi(program, globals)
for (const command of program.commands.flatMap(c => [c, ...c.commands])) command.exitOverride()

try {
  await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage
  } else {
    const code = exitCodeFor(err)
    const message = err instanceof Error ? err.message : String(err)
    if (globals().json === true) {
      process.stdout.write(JSON.stringify({ error: { code: (err as { code?: string }).code ?? 'ERR_INTERNAL', message } }) + '\n')
    }
    process.stderr.write(`cachepoint: ${escapeControl(message)}\n`)
    if (code === EXIT.failure && process.env.CACHEPOINT_DEBUG !== undefined) process.stderr.write(`${(err as Error).stack ?? ''}\n`)
    process.exitCode = code
  }
}
