import assert from 'node:assert/strict'
import { createHash } from 'node:crypto'
import { describe, it } from 'node:test'
import { deriveUserKeys, PAGE_MAX_ENTRIES, pageBoundary, sealDir, type Entry, type SealingKeys } from '../src/index.js'

// How a paged directory is cut decides how many blocks an edit re-seals: one
// page (two when the inserted name is itself a cut), whatever the user's key.
// Keys here are derived from a counter, so a failure names the key that shows it.

const KEYS = 1500

function keysFor (i: number): SealingKeys {
  return deriveUserKeys(createHash('sha256').update(`page test key ${i}`).digest())
}

function file (name: string): Entry {
  return { kind: 'file', name, mode: 0o644, mtimeMs: 1_764_617_000_000, size: 0, sha256: new Uint8Array(32), chunks: [] }
}

/** The pages of `names` sealed as one directory, as CID strings. */
function pagesOf (keys: SealingKeys, names: string[]): string[] {
  const sealed = sealDir(keys, names.map(file))
  assert.ok(sealed.pages.length > 0, 'a directory of more than 32 entries is paged')
  return sealed.pages.map(p => p.cid.toString())
}

/** Whether a page of `names` reaches PAGE_MAX_ENTRIES without a cut (the one cut that depends on a page's length). */
function hasLengthCut (keys: SealingKeys, names: string[]): boolean {
  let run = 0
  for (const name of [...names].sort()) {
    run = pageBoundary(keys, name) ? 0 : run + 1
    if (run >= PAGE_MAX_ENTRIES) return true
  }
  return false
}

const NAMES = Array.from({ length: 100 }, (_, i) => `file${i}.dat`)

describe('personal directory pages', () => {
  it(`an insertion adds one page, or two when the new name is a cut (${KEYS} keys)`, () => {
    for (let k = 0; k < KEYS; k++) {
      const keys = keysFor(k)
      const inserted = `file${k % 100}a.dat`
      const before = new Set(pagesOf(keys, NAMES))
      const after = pagesOf(keys, [...NAMES, inserted])
      const added = after.filter(p => !before.has(p)).length
      if (hasLengthCut(keys, [...NAMES, inserted])) continue
      // a cut splits its page in two, unless it comes first in its page (then the rest of the page is as it was)
      const most = pageBoundary(keys, inserted) ? 2 : 1
      assert.ok(added >= 1 && added <= most, `key ${k}: inserting ${inserted} added ${added} pages`)
      // its page is replaced; none when it lands after the last cut, as a page of its own
      const replaced = [...before].filter(p => !after.includes(p)).length
      assert.ok(replaced <= 1, `key ${k}: inserting ${inserted} replaced ${replaced} pages`)
    }
  })

  it(`a deletion adds one page and removes one or two (${KEYS} keys)`, () => {
    for (let k = 0; k < KEYS; k++) {
      const keys = keysFor(k)
      const removed = NAMES[(k * 7) % NAMES.length]
      const rest = NAMES.filter(n => n !== removed)
      if (hasLengthCut(keys, NAMES) || hasLengthCut(keys, rest)) continue
      const before = pagesOf(keys, NAMES)
      const after = pagesOf(keys, rest)
      const kept = new Set(before)
      const added = after.filter(p => !kept.has(p)).length
      // the last page's entry can be the only one: then removing it adds nothing
      assert.ok(added <= 1, `key ${k}: deleting ${removed} added ${added} pages`)
      assert.ok(before.length - after.length <= 1, `key ${k}: deleting ${removed} went from ${before.length} to ${after.length} pages`)
    }
  })
})
