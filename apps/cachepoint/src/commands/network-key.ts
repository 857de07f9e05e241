import { stat } from 'node:fs/promises'
import { resolve } from 'node:path'
import type { Command } from 'commander'
import { writeFileAtomic } from '@cachecloud/core'
import { output } from '../context.js'
import { FileExistsError } from '../errors.js'
import type { GlobalOptions } from '../paths.js'

/** `network-key --out FILE`: a new organization network key (swarm.key format) for `init --network-key`. */
export function registerNetworkKey (program: Command, globals: () => GlobalOptions): void {
  program.command('network-key')
    .description('write a new organization network key (swarm.key format); give the same file to every CachePoint, then init --network-key FILE')
    .requiredOption('--out <file>', 'where to write it (mode 600; an existing file is never overwritten)')
    .action(async (o: { out: string }) => {
      const g = globals()
      const path = resolve(o.out)
      if (await stat(path).then(() => true, () => false)) {
        throw new FileExistsError(`${path} already exists: a network key is not overwritten (every node of the organization holds a copy of it)`)
      }
      // loaded here, not at the top: the peer key code of network/settings would cost every other command's startup
      const { generateNetworkKey } = await import('@cachecloud/network/settings')
      await writeFileAtomic(path, generateNetworkKey(), { mode: 0o600 })
      output(g, { path }, () => `network key written to ${path} (mode 600): copy it to every CachePoint of the organization and run cachepoint init --network-key ${path}`)
    })
}
