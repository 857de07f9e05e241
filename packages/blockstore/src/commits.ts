/**
 * Commit points without per-block fsync.
 *
 * Crash argument (also in docs/formats/blockstore.md): a block file becomes
 * visible under its final name only by rename, after its bytes were written,
 * so a killed process leaves at worst a temp file (removed at start). A power
 * loss may still leave a renamed file whose data never reached the disk
 * (empty, short or garbage), because nothing was fsynced. Such files can only
 * come from writes after the last commit, and before the first of those
 * writes the DIRTY marker is made durable (file and directory fsynced). So:
 *  - DIRTY absent at start: every block file was fsynced, with its directory,
 *    before the marker was removed; nothing to check.
 *  - DIRTY present: every block file whose mtime is at or after the marker's
 *    time (minus DIRTY_CLOCK_SLACK_MS) is re-hashed (a block's mtime is the
 *    time its bytes were written; rename keeps it); bad ones are deleted, good
 *    ones fsynced, and only then is the marker removed.
 * `sync()` fsyncs the files written since the last commit and the directories
 * they were renamed into (or deleted from), then removes the marker if no
 * write started meanwhile. A clock stepped back by more than the slack while
 * dirty could hide a torn block from recovery; `get()` still verifies every
 * read, so such a block is never served, only counted by `has()`.
 */
import fs from 'node:fs/promises'
import { dirname } from 'node:path'
import { forEachBounded, fsyncPath, isNotFound, mapDiskFull, writeFileDurably } from './fs-util.js'
import type { Layout } from './layout.js'

export class Commits {
  private readonly layout: Layout
  private readonly concurrency: number
  /** True while the DIRTY marker is (durably) on disk. */
  private dirty = false
  /** Serializes creation and removal of the marker. */
  private transition: Promise<void> = Promise.resolve()
  private pendingFiles: string[] = []
  private pendingDirs = new Set<string>()
  private inflight = 0

  constructor (layout: Layout, concurrency: number) {
    this.layout = layout
    this.concurrency = concurrency
  }

  /** Call before writing a block; resolves once the marker is durable. Pair with `endWrite`. */
  async beginWrite (): Promise<void> {
    this.inflight++
    if (this.dirty) return
    try {
      await this.serialize(async () => {
        if (this.dirty) return
        await writeFileDurably(this.layout.dirty, this.layout.root, `${Date.now()}\n`)
        this.dirty = true
      })
    } catch (err) {
      this.inflight--
      throw mapDiskFull(err, 'creating the dirty marker of the block store')
    }
  }

  /** Ends a write; `file` is the block's final path when it was renamed into place. */
  endWrite (file?: string): void {
    this.inflight--
    if (file !== undefined) this.written(file)
  }

  /** A file to fsync, with its directory, at the next commit. */
  written (file: string): void {
    this.pendingFiles.push(file)
    this.pendingDirs.add(dirname(file))
  }

  /** A file removed from `dir`: the directory is fsynced at the next commit. */
  removed (file: string): void {
    this.pendingDirs.add(dirname(file))
  }

  /** Recovery found the marker on disk: keep it until the next commit. */
  adoptMarker (): void {
    this.dirty = true
  }

  async sync (): Promise<void> {
    const files = this.pendingFiles
    const dirs = this.pendingDirs
    this.pendingFiles = []
    this.pendingDirs = new Set()
    try {
      await forEachBounded(files, this.concurrency, fsyncPath)
      await forEachBounded(dirs, this.concurrency, fsyncPath)
    } catch (err) {
      this.pendingFiles.push(...files)
      for (const dir of dirs) this.pendingDirs.add(dir)
      throw err
    }
    await this.serialize(async () => {
      if (!this.dirty || this.inflight > 0 || this.pendingFiles.length > 0 || this.pendingDirs.size > 0) return
      this.dirty = false
      await fs.rm(this.layout.dirty, { force: true })
    })
  }

  /** Reads the marker: undefined when absent, else the time from which writes are uncommitted. */
  async readMarker (): Promise<number | undefined> {
    let text: string
    let mtimeMs: number
    try {
      text = await fs.readFile(this.layout.dirty, 'utf8')
      mtimeMs = (await fs.stat(this.layout.dirty)).mtimeMs
    } catch (err) {
      if (isNotFound(err)) return undefined
      throw err
    }
    const recorded = /^\d+\n$/.test(text) ? Number(text.trim()) : Number.NaN
    // An unreadable marker means "dirty since an unknown time": check everything.
    if (Number.isNaN(recorded)) return Number.NEGATIVE_INFINITY
    return Math.min(recorded, mtimeMs)
  }

  private async serialize (fn: () => Promise<void>): Promise<void> {
    const run = this.transition.then(fn)
    this.transition = run.catch(() => {})
    await run
  }
}
