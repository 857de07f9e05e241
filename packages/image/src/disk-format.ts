import { open } from 'node:fs/promises'
import { ImageFileError, UnsupportedDiskFormatError } from './errors.js'

/** Disk formats `image import` reads and `image export` writes; all but raw go through qemu-img. */
export const DISK_FORMATS = ['raw', 'qcow2', 'vmdk', 'vhdx'] as const
export type DiskFormat = typeof DISK_FORMATS[number]

/** Formats qemu-img recognises that CacheCloud does not take (named in the refusal). */
const OTHER_MAGIC: Array<[string, number, string]> = [
  ['vpc (VHD)', 0, 'conectix'],
  ['vdi', 64, '\x7f\x10\xda\xbe'],
  ['qed', 0, 'QED\0'],
  ['dmg', 0, 'koly'],
  ['parallels', 0, 'WithoutFreeSpace'],
  ['luks', 0, 'LUKS\xba\xbe']
]

const MAGIC: Array<[DiskFormat, number, string]> = [
  ['qcow2', 0, 'QFI\xfb'],
  ['vmdk', 0, 'KDMV'],
  ['vmdk', 0, '# Disk DescriptorFile'],
  ['vhdx', 0, 'vhdxfile']
]

const SNIFF_BYTES = 512

export function isDiskFormat (text: string): text is DiskFormat {
  return (DISK_FORMATS as readonly string[]).includes(text)
}

/** `--format` text to a format, or UnsupportedDiskFormatError naming the ones there are. */
export function parseDiskFormat (text: string): DiskFormat {
  const t = text.trim().toLowerCase()
  if (isDiskFormat(t)) return t
  throw new UnsupportedDiskFormatError(`unknown disk format ${JSON.stringify(text.slice(0, 40))}: use one of ${DISK_FORMATS.join(', ')}`)
}

function matches (head: Buffer, offset: number, magic: string): boolean {
  return head.subarray(offset, offset + magic.length).equals(Buffer.from(magic, 'latin1'))
}

/**
 * The format of an image file from its first bytes, by the same magic numbers
 * qemu-img probes; anything else is raw (as qemu-img also concludes). A format
 * qemu-img knows but CacheCloud does not take is refused here.
 */
export async function detectDiskFormat (file: string): Promise<DiskFormat> {
  let head: Buffer
  try {
    const handle = await open(file, 'r')
    try {
      const buffer = Buffer.alloc(SNIFF_BYTES)
      const { bytesRead } = await handle.read(buffer, 0, SNIFF_BYTES, 0)
      head = buffer.subarray(0, bytesRead)
    } finally {
      await handle.close()
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException
    const why = e.code === 'ENOENT' ? 'no such file' : e.code === 'EACCES' ? 'permission denied' : e.code === 'EISDIR' ? 'not a regular file' : e.message
    throw new ImageFileError(`cannot read image ${file}: ${why}`, { cause: err })
  }
  for (const [format, offset, magic] of MAGIC) if (matches(head, offset, magic)) return format
  for (const [format, offset, magic] of OTHER_MAGIC) {
    if (matches(head, offset, magic)) throw new UnsupportedDiskFormatError(`${file} is a ${format} image, which CacheCloud does not import: convert it first (qemu-img convert -O qcow2 ...) or use one of ${DISK_FORMATS.join(', ')}`)
  }
  return 'raw'
}
