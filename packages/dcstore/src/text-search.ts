import type { AuditLog } from './audit.js'
import { DEFAULT_SEARCH_LIMIT, MAX_HOLD_GLOB, MAX_LISTED_NOT_INDEXED, MAX_SEARCH_PHRASES, MAX_SEARCH_TEXT } from './constants.js'
import { DiscoveryKeyRequiredError, InvalidTextSearchError } from './errors.js'
import { blindPhrase, openText, snippet, textKeys, words } from './text-tokens.js'
import { snapshotsOfHold } from './holds.js'
import type { Matters } from './matters.js'
import type { TextIndexer, TextIndexOptions, TextIndexRun } from './text-indexer.js'
import type { TextCoverageRow, TextHit, TextScope, TextStatus, VersionIndex } from './version-index.js'

export interface TextSearchQuery {
  /** Every search runs in a matter: over its custodians, recorded against it. */
  matter: string
  /** Words (each must occur) and "quoted phrases" (the words in that order). */
  text: string
  /** Snapshot times: the custodians' data as it was at every time in [from, to] (default: the matter's range, else all time). */
  from?: number
  to?: number
  /** Some of the matter's custodians (default all). */
  custodians?: string[]
  glob?: string
  /** File name extensions (pdf, docx, ...). */
  types?: string[]
  minSize?: number
  maxSize?: number
  mtimeFrom?: number
  mtimeTo?: number
  limit?: number
}

/** How much of the content searched was indexed: counsel's statement that the search was complete, or what it missed. */
export interface TextCoverage {
  /** File versions in scope (filters applied, text aside). */
  versions: number
  /** Of them, whose text is indexed whole. */
  indexed: number
  /** The rest, by status ('pending': not processed yet). */
  notIndexed: number
  byStatus: Partial<Record<TextStatus | 'pending', number>>
  /** The first MAX_LISTED_NOT_INDEXED of them, with why. */
  listed: Array<Omit<TextCoverageRow, 'status'> & { status: TextStatus | 'pending' }>
  complete: boolean
}

export interface TextSearchResult {
  matter: string
  custodians: string[]
  snapshots: number
  hits: TextHit[]
  coverage: TextCoverage
}

export interface TextIndexStatus {
  /** Distinct contents (SHA-256) of files in the index, and how many the text index has processed, by status. */
  contents: number
  processed: number
  pending: number
  byStatus: Partial<Record<TextStatus, number>>
}

/** Words and "quoted phrases" of a search text, each at least one letter or digit. */
export function parsePhrases (text: string): string[] {
  if (typeof text !== 'string' || text.length > MAX_SEARCH_TEXT) throw new InvalidTextSearchError(`the search text must be at most ${MAX_SEARCH_TEXT} characters`)
  const phrases: string[] = []
  for (const m of text.matchAll(/"([^"]*)"|(\S+)/g)) {
    const p = (m[1] ?? m[2]).trim().replace(/\s+/g, ' ')
    if (words(p).length > 0) phrases.push(p)
  }
  if (phrases.length === 0) throw new InvalidTextSearchError('the search text has no words')
  if (phrases.length > MAX_SEARCH_PHRASES) throw new InvalidTextSearchError(`at most ${MAX_SEARCH_PHRASES} words or phrases`)
  return phrases
}

const iso = (ms: number | undefined): string | undefined => ms === undefined ? undefined : new Date(ms).toISOString()

/** The text index of the store: built by the indexer, searched within a matter, every search audited with its coverage. */
export class TextSearch {
  constructor (private readonly init: { index: VersionIndex, audit: AuditLog, matters: Matters, indexer: TextIndexer, discoveryPrivateKey?: Uint8Array }) {}

  /** Indexes every content not yet indexed (the snapshots already held; a serving store does this as they arrive); audited. */
  async index (options: TextIndexOptions = {}): Promise<TextIndexRun> {
    return await this.init.audit.run('text-index', { maxFileBytes: options.maxFileBytes ?? null, timeoutMs: options.timeoutMs ?? null }, async () => await this.init.indexer.run(options),
      r => ({ processed: r.processed, byStatus: r.byStatus, textBytes: r.textBytes }))
  }

  async status (): Promise<TextIndexStatus> {
    const c = await this.init.index.textCounts()
    const processed = Object.values(c.byStatus).reduce((a, b) => a + b, 0)
    return { contents: c.contents, processed, pending: Math.max(0, c.contents - processed), byStatus: c.byStatus }
  }

  async search (q: TextSearchQuery): Promise<TextSearchResult> {
    const phrases = parsePhrases(q.text)
    if (this.init.discoveryPrivateKey === undefined) throw new DiscoveryKeyRequiredError('searching text needs the discovery private key (--discovery-key): the index holds only keyed hashes of the words')
    const keys = textKeys(this.init.discoveryPrivateKey)
    const matter = await this.init.matters.scope(q.matter)
    for (const c of q.custodians ?? []) await this.init.matters.scope(q.matter, c)
    const custodians = q.custodians === undefined || q.custodians.length === 0 ? matter.custodians : [...new Set(q.custodians)]
    const from = q.from ?? matter.fromMs ?? undefined
    const to = q.to ?? matter.toMs ?? undefined
    if (from !== undefined && to !== undefined && from > to) throw new InvalidTextSearchError('--to is before --from')
    for (const t of q.types ?? []) if (!/^[a-z0-9]{1,16}$/.test(t)) throw new InvalidTextSearchError(`not a file type: ${JSON.stringify(t.slice(0, 40))} (an extension such as pdf or docx)`)
    if (q.glob !== undefined && q.glob.length > MAX_HOLD_GLOB) throw new InvalidTextSearchError(`the glob is longer than ${MAX_HOLD_GLOB} characters`)
    const limit = Math.min(Math.max(1, q.limit ?? DEFAULT_SEARCH_LIMIT), 100_000)
    const params = {
      matter: q.matter, text: q.text, from: iso(from), to: iso(to), custodians, glob: q.glob, types: q.types, minSize: q.minSize, maxSize: q.maxSize,
      mtimeFrom: iso(q.mtimeFrom), mtimeTo: iso(q.mtimeTo), limit
    }
    return await this.init.audit.run('text-search', JSON.parse(JSON.stringify(params)) as Record<string, unknown>, async () => {
      // the snapshots in scope: what each custodian had at every time in [from, to], as a hold of that range would keep
      const snapshots: string[] = []
      for (const custodian of custodians) {
        const scope = { id: '', matter: q.matter, custodian, fromMs: from ?? null, toMs: to ?? null, glob: null, placedMs: 0, placedBy: '', reason: '', releasedMs: null, releasedBy: null, releaseReason: null }
        snapshots.push(...(await snapshotsOfHold(this.init.index, scope)).map(s => s.cid))
      }
      const scope: TextScope = {
        snapshots, ...(q.glob === undefined ? {} : { glob: q.glob }), ...(q.types === undefined ? {} : { types: q.types }),
        ...(q.minSize === undefined ? {} : { minSize: q.minSize }), ...(q.maxSize === undefined ? {} : { maxSize: q.maxSize }),
        ...(q.mtimeFrom === undefined ? {} : { mtimeFromMs: q.mtimeFrom }), ...(q.mtimeTo === undefined ? {} : { mtimeToMs: q.mtimeTo })
      }
      const blinded = phrases.map(p => blindPhrase(keys, p))
      const matches = snapshots.length === 0 ? [] : await this.init.index.searchText(blinded, scope, limit)
      const hits: TextHit[] = matches.map(({ sealed, ...m }) => ({ ...m, snippet: snippet(openText(keys, sealed), phrases) }))
      const byStatus = snapshots.length === 0 ? {} : await this.init.index.textCoverageCounts(scope)
      const listed = snapshots.length === 0 ? [] : (await this.init.index.textCoverage(scope, { notIndexedOnly: true, limit: MAX_LISTED_NOT_INDEXED })).map(r => ({ ...r, status: r.status ?? 'pending' as const }))
      const versions = Object.values(byStatus).reduce((a, b) => a + b, 0)
      const indexed = byStatus.indexed ?? 0
      const coverage: TextCoverage = { versions, indexed, notIndexed: versions - indexed, byStatus, listed, complete: versions === indexed }
      return { matter: q.matter, custodians, snapshots: snapshots.length, hits, coverage }
    }, r => ({ hits: r.hits.length, snapshots: r.snapshots, versions: r.coverage.versions, indexed: r.coverage.indexed, notIndexed: r.coverage.notIndexed }))
  }
}
