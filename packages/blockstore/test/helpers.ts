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
  length: number
  end: number
}

/** Parses a pack file as docs/formats/blockstore.md specifies it, independently of the implementation; stops at the first malformed record. */
export function scanPack (bytes: Buffer): { records: ScannedRecord[], end: number } {
  if (bytes.toString('latin1', 0, 8) !== 'CCPACK2\n') return { records: [], end: 0 }
  const records: ScannedRecord[] = []
  let at = 8
  while (at + 9 <= bytes.byteLength && bytes.toString('latin1', at, at + 4) === 'CCBK') {
    const cidLength = bytes[at + 4] as number
    const length = bytes.readUInt32BE(at + 5)
    const dataOffset = at + 9 + cidLength
    const end = dataOffset + length
    if (end > bytes.byteLength) break
    records.push({ cid: CID.decode(bytes.subarray(at + 9, dataOffset)), start: at, dataOffset, length, end })
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
