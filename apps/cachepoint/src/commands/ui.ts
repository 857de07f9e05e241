import type { Command } from 'commander'
import { parseCount } from '../options.js'
import { resolveDataDir } from '../context.js'
import type { GlobalOptions } from '../paths.js'

export function registerUi (program: Command, globals: () => GlobalOptions): void {
  program.command('ui')
    .description('serve the status page on 127.0.0.1 and print its URL (open it in a browser on this machine); runs until Ctrl-C')
    .option('--port <port>', 'port on 127.0.0.1 (default: chosen by the OS)')
    .action(async (opts: { port?: string }) => {
      const g = globals()
      const { createUiServer } = await import('@cachecloud/ui')
      const server = createUiServer({ dataDir: await resolveDataDir(g), port: opts.port === undefined ? 0 : parseCount(opts.port, '--port') })
      const { url, openUrl } = await server.start()
      process.stdout.write((g.json === true ? JSON.stringify({ url, openUrl }) : `CachePoint status page: ${openUrl}\n(the key after # signs this browser in; keep it private. Ctrl-C stops the page server.)`) + '\n')
      await new Promise<void>((resolve) => {
        const stop = (): void => { server.stop().then(resolve, resolve) }
        process.once('SIGINT', stop)
        process.once('SIGTERM', stop)
      })
    })
}
