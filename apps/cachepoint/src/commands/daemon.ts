import type { Command } from 'commander'
import type { Logger } from 'pino'
import { EXIT } from '../exit-codes.js'
import { configPathOf, type GlobalOptions } from '../paths.js'

/** After a failed start has stopped every part, the process exits by itself; this long at most, should anything linger. */
const EXIT_GRACE_MS = 5_000

/**
 * The daemon's last resort for an error that escaped everything: one that
 * belongs to a single peer connection (isConnectionScopedError) costs that
 * connection only and the daemon keeps serving; anything else is logged as
 * fatal and the process exits with EXIT.failure (1, "unexpected failure").
 */
function installLastResort (logger: Logger, isConnectionScoped: (err: unknown) => boolean): void {
  const onError = (kind: string) => (err: unknown): void => {
    if (isConnectionScoped(err)) {
      logger.error({ err, kind }, 'an error of one peer connection escaped its handler: that connection is lost, the daemon keeps serving')
      return
    }
    logger.fatal({ err, kind }, 'unexpected error: the daemon exits')
    process.exit(EXIT.failure)
  }
  process.on('uncaughtException', onError('uncaughtException'))
  process.on('unhandledRejection', onError('unhandledRejection'))
}

export function registerDaemon (program: Command, globals: () => GlobalOptions): void {
  program.command('daemon')
    .description('run the CachePoint: libp2p block exchange and the local control API (logs JSON to stdout); SIGTERM or SIGINT stops it')
    .option('--log-level <level>', 'override the config\'s logLevel (fatal, error, warn, info, debug, trace)')
    .action(async (opts: { logLevel?: string }) => {
      const { createDaemon, loadConfig } = await import('@cachecloud/daemon')
      const { isConnectionScopedError } = await import('@cachecloud/network')
      const { pino } = await import('pino')
      const config = await loadConfig(await configPathOf(globals()))
      const logger = pino({ level: opts.logLevel ?? config.logLevel, base: { pid: process.pid } })
      installLastResort(logger, isConnectionScopedError)
      const daemon = createDaemon({ config, logger })
      let starting: Promise<unknown> = Promise.resolve()
      const stopped = new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping')
          // a signal during start stops the daemon once start has settled (a failed start has stopped it already)
          starting.then(async () => { await daemon.stop() }, () => {}).then(resolve, (err: unknown) => { logger.error({ err }, 'error while stopping'); resolve() })
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
      starting = daemon.start()
      try {
        await starting
      } catch (err) {
        // every part is stopped: nothing should keep the process alive, but it must not linger if something does
        setTimeout(() => { process.exit() }, EXIT_GRACE_MS).unref()
        throw err
      }
      await stopped
    })
}
