import { readFile } from 'node:fs/promises'
import type { Logger } from 'pino'
import { writeFileAtomic } from '@cachecloud/core'

/** daemon-state.json as written: the pause, and the sources of direct pulls not finished yet. */
interface StateFileJson { paused?: unknown, pulls?: unknown }

/**
 * What a daemon keeps across restarts about the versions arriving at it
 * (daemon-state.json): whether it is paused, and where each direct pull not
 * finished yet pulls from, so a pull cut by a crash continues at the next
 * start. Written whole and atomically; an unreadable file is logged and
 * read as empty (not paused, nothing to resume), never a failed start.
 */
export class DaemonState {
  paused = false
  /** Sources of the last direct pull of each ref still to finish. */
  readonly sources = new Map<string, string[]>()

  constructor (private readonly path: string, private readonly logger: Logger) {}

  async load (): Promise<void> {
    try {
      const state = JSON.parse(await readFile(this.path, 'utf8')) as StateFileJson
      this.paused = state.paused === true
      const pulls = typeof state.pulls === 'object' && state.pulls !== null ? state.pulls : {}
      for (const [ref, sources] of Object.entries(pulls)) {
        if (Array.isArray(sources) && sources.length > 0 && sources.every(s => typeof s === 'string')) this.sources.set(ref, sources as string[])
      }
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') this.logger.warn({ err }, 'ignoring unreadable daemon state file')
    }
  }

  async save (): Promise<void> {
    await writeFileAtomic(this.path, JSON.stringify({ paused: this.paused, pulls: Object.fromEntries(this.sources) }) + '\n')
  }
}
