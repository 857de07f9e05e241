/**
 * The store's directory: its VERSION file (written first when a store is
 * created, so a half-initialized store is still recognized; formats 1, 2
 * and 3 told apart) and its packs directory. docs/formats/blockstore.md,
 * "Format version".
 */
import fs from 'node:fs/promises'
import { join } from 'node:path'
import { BLOCKSTORE_VERSION_2_TEXT, BLOCKSTORE_VERSION_TEXT, INDEX_FILE, PACKS_DIR, VERSION_FILE } from './constants.js'
import { BlockstoreFormatError } from './errors.js'
import { fsyncPath, isNotFound, writeFileDurably } from './fs-util.js'

/** Checks the format version file (creating a new store if absent) and creates the packs directory. */
export async function openLayout (root: string, packsDir: string): Promise<void> {
  await fs.mkdir(root, { recursive: true })
  const versionFile = join(root, VERSION_FILE)
  let version: string | undefined
  try {
    version = await fs.readFile(versionFile, 'utf8')
  } catch (err) {
    if (!isNotFound(err)) throw err
  }
  if (version === undefined) {
    const names = new Set(await fs.readdir(root))
    const foreign = ['blocks', PACKS_DIR, INDEX_FILE].find(name => names.has(name))
    if (foreign !== undefined) {
      throw new BlockstoreFormatError(`${root} has ${foreign} but no VERSION file: not a CacheCloud block store`)
    }
    // The version file goes first, so a half-initialized store is still recognized.
    await writeFileDurably(versionFile, root, BLOCKSTORE_VERSION_TEXT)
  } else if (version === 'cachecloud-blockstore 1\n') {
    throw new BlockstoreFormatError(`${root} holds a format-1 block store (one file per block); this version reads only formats 2 and 3 (pack files): move it aside, then import or pull the images again`)
  } else if (version === BLOCKSTORE_VERSION_2_TEXT) {
    // Format 3 reads format-2 packs and log entries as they are; from now on records of format 3 are appended,
    // which a format-2 reader would cut as garbage: so the version moves on first.
    await writeFileDurably(versionFile, root, BLOCKSTORE_VERSION_TEXT)
  } else if (version !== BLOCKSTORE_VERSION_TEXT) {
    throw new BlockstoreFormatError(`${root} is a block store of unknown format ${JSON.stringify(version.trim())}; this version reads ${JSON.stringify(BLOCKSTORE_VERSION_TEXT.trim())}`)
  }
  try {
    await fs.mkdir(packsDir)
    await fsyncPath(root)
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err
  }
}
