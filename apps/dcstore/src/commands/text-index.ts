import type { Command } from 'commander'
import type { TextIndexProgress } from '@cachecloud/dcstore'
import { print, withStore, type GlobalOptions } from '../context.js'

/** Progress on stderr, only on a terminal, at most 4 times a second. */
function progress (): { onProgress?: (e: TextIndexProgress) => void, done: () => void } {
  if (process.stderr.isTTY !== true) return { done: () => {} }
  let last = 0
  let shown = false
  return {
    onProgress: e => {
      const now = Date.now()
      if (now - last < 250) return
      last = now; shown = true
      process.stderr.write(`\r\x1b[Kindexed ${e.done} contents (batch of ${e.pending})`)
    },
    done: () => { if (shown) process.stderr.write('\r\x1b[K') }
  }
}

const positive = (name: string, v: string | undefined): number | undefined => {
  if (v === undefined) return undefined
  const n = Number(v)
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`--${name}: not a positive whole number: ${JSON.stringify(v)}`)
  return n
}

export function registerTextIndex (program: Command, globals: () => GlobalOptions): void {
  const ix = program.command('index').description('the text index that `discover search --text` searches (a serving store builds it as snapshots arrive)')

  ix.command('status').description('contents known, indexed, and not (by why)')
    .action(async () => {
      const s = await withStore(globals(), async store => await store.discovery.text.status())
      print(globals(), s, () => [
        `${s.processed} of ${s.contents} contents processed, ${s.pending} pending`,
        ...Object.entries(s.byStatus).map(([k, v]) => `  ${k}: ${v}`)
      ])
    })

  ix.command('run').description('index the text of every content not yet indexed (the snapshots already held); needs --discovery-key and the store stopped; audited')
    .option('--max-file-bytes <n>', 'files larger than this are listed as too large, not read')
    .option('--timeout-ms <n>', 'time limit of one file\'s extraction')
    .action(async (o: { maxFileBytes?: string, timeoutMs?: string }) => {
      const maxFileBytes = positive('max-file-bytes', o.maxFileBytes)
      const timeoutMs = positive('timeout-ms', o.timeoutMs)
      const p = progress()
      const r = await withStore(globals(), async store => await store.discovery.text.index({
        ...(maxFileBytes === undefined ? {} : { maxFileBytes }), ...(timeoutMs === undefined ? {} : { timeoutMs }),
        ...(p.onProgress === undefined ? {} : { onProgress: p.onProgress })
      })).finally(p.done)
      print(globals(), r, () => [
        `indexed ${r.processed} contents in ${r.seconds.toFixed(1)} s (${(r.textBytes / 1e6).toFixed(1)} MB of text from ${(r.fileBytes / 1e6).toFixed(1)} MB of files)`,
        ...Object.entries(r.byStatus).map(([k, v]) => `  ${k}: ${v}`)
      ])
    })
}
