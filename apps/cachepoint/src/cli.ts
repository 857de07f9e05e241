#!/usr/bin/env -S node --max-semi-space-size=8
import '@cachecloud/core/polyfill'
import { Command, CommanderError } from 'commander'
import { readFileSync } from 'node:fs'
import { registerConfig } from './commands/config.js'
import { registerCheck } from './commands/check.js'
import { kindOf } from '@cachecloud/core'
import { escapeControl } from '@cachecloud/core/escape'
import { registerControl } from './commands/control.js'
import { registerDaemon } from './commands/daemon.js'
import { registerId } from './commands/id.js'
import { registerImage } from './commands/image.js'
import { registerInit } from './commands/init.js'
import { registerNetworkKey } from './commands/network-key.js'
import { registerPersonal } from './commands/personal.js'
import { registerStatus } from './commands/status.js'
import { registerUi } from './commands/ui.js'
import { DaemonGoneError, isConnectionLost } from './errors.js'
import { EXIT, exitCodeFor } from './exit-codes.js'
import type { GlobalOptions } from './paths.js'

const program = new Command('cachepoint')
  .description('CacheCloud CachePoint: block-level gold-image distribution over libp2p')
  .option('-d, --data-dir <dir>', 'data directory (default $CACHEPOINT_HOME or ~/.cachepoint)')
  .option('-c, --config <file>', 'config file (default DATA_DIR/config.json, or $CACHEPOINT_CONFIG)')
  .option('--json', 'print results as JSON for scripts')
  .exitOverride()
  .showHelpAfterError('(run with --help for usage)')
  .addHelpText('after', '\n--version (before any command) prints the version.')

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version

const globals = (): GlobalOptions => program.opts<GlobalOptions>()
registerInit(program, globals)
registerId(program, globals)
registerConfig(program, globals)
registerNetworkKey(program, globals)
registerDaemon(program, globals)
registerImage(program, globals)
registerStatus(program, globals)
registerControl(program, globals)
registerPersonal(program, globals)
registerUi(program, globals)
registerCheck(program, globals)
for (const command of program.commands.flatMap(c => [c, ...c.commands])) command.exitOverride()

/** `--version` before any command (`image import --version V` is an option of its own, so commander's version option cannot be used). */
function asksVersion (args: string[]): boolean {
  for (let i = 0; i < args.length; i++) {
    if (args[i] === '--version' || args[i] === '-V') return true
    if (['-d', '--data-dir', '-c', '--config'].includes(args[i])) i++
    else if (!args[i].startsWith('-')) return false
  }
  return false
}

try {
  if (asksVersion(process.argv.slice(2))) process.stdout.write(`cachepoint ${VERSION}\n`)
  else await program.parseAsync(process.argv)
} catch (err) {
  if (err instanceof CommanderError) {
    process.exitCode = err.exitCode === 0 ? EXIT.ok : EXIT.usage
  } else {
    const failure = isConnectionLost(err) ? new DaemonGoneError('the CachePoint daemon went away before answering (crashed or stopped; see its log)', { cause: err }) : err
    const code = exitCodeFor(failure)
    const message = failure instanceof Error ? failure.message : String(failure)
    if (globals().json === true) {
      process.stdout.write(JSON.stringify({ error: { code: (failure as { code?: string }).code ?? 'ERR_INTERNAL', kind: kindOf(failure), message } }) + '\n')
    }
    process.stderr.write(`cachepoint: ${escapeControl(message)}\n`)
    if (code === EXIT.failure && process.env.CACHEPOINT_DEBUG !== undefined) process.stderr.write(`${(failure as Error).stack ?? ''}\n`)
    process.exitCode = code
  }
}
