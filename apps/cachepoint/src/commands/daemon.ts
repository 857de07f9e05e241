import type { Command } from 'commander'
import { configPathOf, type GlobalOptions } from '../paths.js'

export function registerDaemon (program: Command, globals: () => GlobalOptions): void {
  program.command('daemon')
    .description('run the CachePoint: libp2p block exchange and the local control API (logs JSON to stdout)')
    .option('--log-level <level>', 'override the config\'s logLevel (fatal, error, warn, info, debug, trace)')
    .action(async (opts: { logLevel?: string }) => {
      const { createDaemon, loadConfig } = await import('@cachecloud/daemon')
      const { pino } = await import('pino')
      const config = await loadConfig(await configPathOf(globals()))
      const logger = pino({ level: opts.logLevel ?? config.logLevel, base: { pid: process.pid } })
      const daemon = createDaemon({ config, logger })
      await daemon.start()
      await new Promise<void>((resolve) => {
        const stop = (signal: string): void => {
          logger.info({ signal }, 'stopping')
          daemon.stop().then(resolve, (err: unknown) => { logger.error({ err }, 'error while stopping'); resolve() })
        }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
    })
}
