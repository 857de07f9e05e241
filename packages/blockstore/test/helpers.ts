import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after } from 'node:test'
import { CID } from 'multiformats/cid'

const created: string[] = []
after(async () => {
  for (const dir of created.splice(0)) await rm(dir, { recursive: true, force: true })
})

/** A fresh directory, removed when the test file finishes. */
export async function tempDir (prefix = 'blockstore-'): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), prefix))
  created.push(dir)
  return dir
}

export interface ScannedRecord {
  cid: CID
  /** Offset of the record header in the pack. */
  start: number
  /** Offset of the block's bytes. */
  dataOffset: number
  /** Stored bytes of the record's data. */
  length: number
  end: number
  /** 0 raw, 1 zstd. */
  codec: number
  rawLength: number
}

/** Parses a pack file as docs/formats/blockstore.md specifies it, independently of the implementation; stops at the first malformed record. */
export function scanPack (bytes: Buffer): { records: ScannedRecord[], end: number } {
  const header = bytes.toString('latin1', 0, 8)
  if (header !== 'CCPACK2\n' && header !== 'CCPACK3\n') return { records: [], end: 0 }
  const records: ScannedRecord[] = []
  let at = 8
  while (at + 9 <= bytes.byteLength) {
    const magic = bytes.toString('latin1', at, at + 4)
    const cidLength = bytes[at + 4] as number
    let fixed: number
    let length: number
    let codec = 0
    let rawLength: number
    if (magic === 'CCBK') {
      fixed = 9
      length = rawLength = bytes.readUInt32BE(at + 5)
    } else if (magic === 'CCB3' && at + 18 <= bytes.byteLength) {
      fixed = 18
      codec = bytes[at + 5] as number
      length = bytes.readUInt32BE(at + 6)
      rawLength = bytes.readUInt32BE(at + 10)
    } else {
      break
    }
    const dataOffset = at + fixed + cidLength
    const end = dataOffset + length
    if (end > bytes.byteLength) break
    records.push({ cid: CID.decode(bytes.subarray(at + fixed, dataOffset)), start: at, dataOffset, length, end, codec, rawLength })
    at = end
  }
  return { records, end: at }
}

export async function packFiles (root: string): Promise<string[]> {
  return (await readdir(join(root, 'packs'))).filter(name => /^[0-9a-f]{8}\.pack$/.test(name)).sort().map(name => join(root, 'packs', name))
}

/** Every record of every pack, with its file. */
export async function allRecords (root: string): Promise<Array<ScannedRecord & { file: string }>> {
  const all: Array<ScannedRecord & { file: string }> = []
  for (const file of await packFiles(root)) {
    for (const record of scanPack(await readFile(file)).records) all.push({ ...record, file })
  }
  return all
}

/** Blocks and raw bytes held, and a check that stored bytes equal raw bytes (the tests' random blocks do not compress). */
export async function rawStats (store: {
  stats: () => Promise<{
    blocks: number,
    bytes: number,
    storedBytes: number
  }>
}): Promise<{ blocks: number, bytes: number }> {
  const { blocks, bytes, storedBytes } = await store.stats()
  if (storedBytes < bytes) throw new Error(`stored ${storedBytes} < raw ${bytes}: the test's blocks compressed`)
  return { blocks, bytes }
}
