import type { Blockstore } from '@cachecloud/blockstore'
import { parseCid } from '@cachecloud/core'
import { decodeRecord, deriveUserKeys, findEntry, readFileContent, unwrapUserKey, walkTree, type Entry, type UserKeys } from '@cachecloud/personal-format'
import type { Logger } from 'pino'
import { DEFAULT_TEXT_MAX_FILE_BYTES, DEFAULT_TEXT_TIMEOUT_MS, TEXT_BATCH, TEXT_FOLLOW_INTERVAL_MS } from './constants.js'
import { DiscoveryKeyRequiredError } from './errors.js'
import { TextExtractor } from './text-extractor.js'
import { blindText, sealText, textKeys } from './text-tokens.js'
import type { PendingText, TextBody, TextDocRow, TextStatus, VersionIndex } from './version-index.js'

export interface TextIndexOptions {
  /** Files larger than this are not read (listed as too large). Default DEFAULT_TEXT_MAX_FILE_BYTES. */
  maxFileBytes?: number
  /** Time limit of one file's extraction. Default DEFAULT_TEXT_TIMEOUT_MS. */
  timeoutMs?: number
  onProgress?: (event: TextIndexProgress) => void
  signal?: AbortSignal
}

/** After each content: how many this run processed, and how many were pending when its batch started. */
export interface TextIndexProgress {
  type: 'text:content'
  done: number
  pending: number
  sha256: string
  path: string
  status: TextStatus
  textBytes: number
}

export interface TextIndexRun {
  processed: number
  byStatus: Partial<Record<TextStatus, number>>
  /** Bytes (UTF-8) of text indexed, and file bytes read. */
  textBytes: number
  fileBytes: number
  seconds: number
}

/** Walking the whole tree beats looking each path up from the root once a batch wants this many files of one snapshot. */
const WALK_AT = 8

/**
 * Builds the text index: every content (by SHA-256) that a file version in
 * the index holds and the text index has not seen, read from the user's
 * block store with the discovery key, its text extracted in a worker (bounded
 * in time and memory) and written with its status, one content per
 * transaction. What is written stays written: a run killed at any point
 * goes on where it stopped (the contents still missing are the pending ones).
 */
export class TextIndexer {
  private following?: { stop: () => void, done: Promise<void> }

  constructor (
    private readonly init: { index: VersionIndex, blocksFor: (user: string) => Promise<Blockstore>, discoveryPrivateKey?: Uint8Array, log?: Logger }
  ) {}

  async run (options: TextIndexOptions = {}): Promise<TextIndexRun> {
    const privateKey = this.init.discoveryPrivateKey
    if (privateKey === undefined) throw new DiscoveryKeyRequiredError('indexing text needs the discovery private key (--discovery-key)')
    const maxFileBytes = options.maxFileBytes ?? DEFAULT_TEXT_MAX_FILE_BYTES
    const extractor = new TextExtractor(options.timeoutMs ?? DEFAULT_TEXT_TIMEOUT_MS)
    const started = performance.now()
    const run: TextIndexRun = { processed: 0, byStatus: {}, textBytes: 0, fileBytes: 0, seconds: 0 }
    const utf8 = new TextEncoder()
    const keys = textKeys(privateKey)
    try {
      let cursor: { snapshot: string, path: string } | undefined
      for (;;) {
        options.signal?.throwIfAborted()
        const versions = await this.init.index.pendingText(TEXT_BATCH, cursor)
        if (versions.length === 0) {
          // the end of a pass; one more from the start takes what arrived behind the cursor meanwhile
          if (cursor === undefined) break
          cursor = undefined
          continue
        }
        cursor = { snapshot: versions[versions.length - 1].snapshot, path: versions[versions.length - 1].path }
        // one version per content (the first): the same bytes in several places are read once
        const firsts = new Map<string, PendingText>()
        for (const v of versions) if (!firsts.has(v.sha256)) firsts.set(v.sha256, v)
        const batch = [...firsts.values()]
        // one transaction per batch (a crash loses at most the batch under way); progress is told once it is durable
        const done: Array<{ doc: TextDocRow, text: TextBody | null, event: Omit<TextIndexProgress, 'done'> }> = []
        for (const [snapshot, items] of groupBy(batch, p => p.snapshot)) {
          const entries = await this.entriesOf(snapshot, items, privateKey).catch((err: Error) => err)
          for (const item of items) {
            options.signal?.throwIfAborted()
            let doc: TextDocRow
            let text: string | null = null
            const now = Date.now()
            if (entries instanceof Error) doc = { sha256: item.sha256, status: 'failed', reason: `snapshot not readable: ${entries.message}`.slice(0, 500), chars: 0, indexedMs: now }
            else if (item.size > maxFileBytes) doc = { sha256: item.sha256, status: 'too-large', reason: `${item.size} bytes, more than the ${maxFileBytes} read for text`, chars: 0, indexedMs: now }
            else {
              const got = await this.read(entries, item, maxFileBytes)
              if (got instanceof Error) doc = { sha256: item.sha256, status: 'failed', reason: got.message.slice(0, 500), chars: 0, indexedMs: now }
              else {
                run.fileBytes += got.byteLength
                const r = await extractor.extract(item.path, got)
                if (r.ok) {
                  text = r.text
                  doc = { sha256: item.sha256, status: r.truncated ? 'truncated' : 'indexed', reason: r.truncated ? `only the first ${r.text.length} characters indexed` : null, chars: r.text.length, indexedMs: now }
                } else doc = { sha256: item.sha256, status: r.status, reason: r.reason, chars: 0, indexedMs: now }
              }
            }
            const textBytes = text === null ? 0 : utf8.encode(text).byteLength
            done.push({ doc, text: text === null ? null : { blinded: blindText(keys, text), sealed: sealText(keys, text) }, event: { type: 'text:content', pending: batch.length, sha256: item.sha256, path: item.path, status: doc.status, textBytes } })
          }
        }
        await this.init.index.putTexts(done.map(({ doc, text }) => ({ doc, text })))
        for (const { doc, event } of done) {
          run.processed++; run.textBytes += event.textBytes
          run.byStatus[doc.status] = (run.byStatus[doc.status] ?? 0) + 1
          options.onProgress?.({ ...event, done: run.processed })
        }
      }
    } finally {
      await extractor.stop()
      run.seconds = (performance.now() - started) / 1000
    }
    return run
  }

  /** The file entries of a snapshot that the batch wants, by path. */
  private async entriesOf (snapshot: string, items: PendingText[], privateKey: Uint8Array): Promise<{
    blocks: Blockstore,
    keys: UserKeys,
    byPath: Map<string,
    Entry | Error>
  }> {
    const blocks = await this.init.blocksFor(items[0].user)
    const record = decodeRecord(await blocks.get(parseCid(snapshot)))
    const keys = deriveUserKeys(unwrapUserKey(record.keys.discovery, privateKey))
    const byPath = new Map<string, Entry | Error>()
    const wanted = new Set(items.map(i => i.path))
    if (wanted.size >= WALK_AT) {
      for await (const { path, entry } of walkTree(blocks, keys, record.root)) if (wanted.has(path)) byPath.set(path, entry)
    } else {
      for (const path of wanted) byPath.set(path, await findEntry(blocks, keys, record.root, path).catch((err: Error) => err))
    }
    return { blocks, keys, byPath }
  }

  private async read (
    s: { blocks: Blockstore, keys: UserKeys, byPath: Map<string, Entry | Error> },
    item: PendingText,
    maxBytes: number
  ): Promise<Uint8Array | Error> {
    const entry = s.byPath.get(item.path)
    if (entry instanceof Error) return entry
    if (entry?.kind !== 'file') return new Error(`${item.path} is not a file in its snapshot`)
    try {
      const parts: Uint8Array[] = []
      let size = 0
      for await (const chunk of readFileContent(s.blocks, s.keys, entry, item.path)) {
        if ((size += chunk.byteLength) > maxBytes) return new Error(`more than ${maxBytes} bytes`)
        parts.push(chunk)
      }
      return Buffer.concat(parts)
    } catch (err) {
      return err as Error
    }
  }

  /** Runs the indexer now and every `intervalMs` (a serving store: snapshots are indexed as they arrive) until stop(). */
  follow (options: TextIndexOptions & { intervalMs?: number } = {}): void {
    if (this.following !== undefined || this.init.discoveryPrivateKey === undefined) return
    const abort = new AbortController()
    let wake: () => void = () => {}
    const done = (async () => {
      while (!abort.signal.aborted) {
        try {
          const r = await this.run({ ...options, signal: abort.signal })
          if (r.processed > 0) this.init.log?.info({ contents: r.processed, byStatus: r.byStatus, textBytes: r.textBytes, seconds: r.seconds }, 'indexed text')
        } catch (err) {
          if (!abort.signal.aborted) this.init.log?.warn({ err }, 'text indexing failed; trying again later')
        }
        await new Promise<void>(resolve => { wake = resolve; setTimeout(resolve, options.intervalMs ?? TEXT_FOLLOW_INTERVAL_MS).unref() })
      }
    })()
    this.following = { stop: () => { abort.abort(); wake() }, done }
  }

  async stop (): Promise<void> {
    const f = this.following
    this.following = undefined
    f?.stop()
    await f?.done
  }
}

function groupBy<T> (items: T[], key: (t: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>()
  for (const i of items) out.set(key(i), [...(out.get(key(i)) ?? []), i])
  return out
}
