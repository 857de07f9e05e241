/**
 * Where a sparse image file holds data, so an import reads its allocated
 * bytes and not its holes: a 4 GiB ext4 image with 500 MB in use then costs
 * 500 MB of reads. Node has no lseek(SEEK_DATA), so the file's extent map
 * comes from FIEMAP through `filefrag -e -b1` (e2fsprogs, which the project
 * needs anyway). Any doubt (no filefrag, a file system without FIEMAP, output
 * not understood) means "read everything": holes are still found by looking
 * at the bytes, only slower.
 */
import { execFile } from 'node:child_process'

/** A byte range [start, end) that may hold data. */
export interface DataRange { start: number, end: number }

const FILEFRAG_TIMEOUT_MS = 30_000
const EXTENT = /^\s*\d+:\s+(\d+)\.\.\s*(\d+):/
const FOUND = /: (\d+) extents? found\s*$/

/** The file's data extents, or undefined when they cannot be known (read the whole file). */
export async function dataRanges (file: string, size: number, allocatedBytes: number): Promise<DataRange[] | undefined> {
  if (allocatedBytes >= size) return undefined // not sparse: nothing to skip
  const output = await new Promise<string | undefined>(resolve => {
    execFile('filefrag', ['-e', '-b1', file], { timeout: FILEFRAG_TIMEOUT_MS, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (err, stdout) => {
      resolve(err === null ? stdout : undefined)
    })
  })
  return output === undefined ? undefined : parseFilefrag(output, size)
}

/** Parses `filefrag -e -b1` output; undefined unless it is exactly the extent listing expected. */
export function parseFilefrag (output: string, size: number): DataRange[] | undefined {
  const lines = output.split('\n')
  if (!lines.some(l => l.includes('(') && l.includes(' blocks of 1 bytes)')) || !lines.some(l => l.includes('logical_offset:'))) return undefined
  const ranges: DataRange[] = []
  let found: number | undefined
  for (const line of lines) {
    const extent = EXTENT.exec(line)
    if (extent !== null) {
      const start = Number(extent[1])
      const end = Math.min(size, Number(extent[2]) + 1)
      if (!Number.isSafeInteger(start) || !Number.isSafeInteger(end) || start < 0 || end < start) return undefined
      ranges.push({ start, end })
      continue
    }
    const count = FOUND.exec(line)
    if (count !== null) found = Number(count[1])
  }
  // the count comes last: without it the listing may be cut short. It counts physically discontiguous runs, so it may be
  // below the lines (data regions apart in the file but written one after another on disk) or above them (merged lines)
  if (found === undefined) return undefined
  // a non-zero count with no extent listed is not understood
  if (found > 0 && ranges.length === 0) return undefined
  return ranges.sort((a, b) => a.start - b.start)
}

/** True when [start, end) overlaps no range (`ranges` sorted by start). */
export function isHoleRange (ranges: DataRange[], start: number, end: number): boolean {
  let lo = 0
  let hi = ranges.length
  while (lo < hi) { // first range ending after `start`
    const mid = (lo + hi) >> 1
    if ((ranges[mid] as DataRange).end <= start) lo = mid + 1
    else hi = mid
  }
  const r = ranges[lo]
  return r === undefined || r.start >= end
}
