import { execFile, spawn, type ChildProcess } from 'node:child_process'
import { access, constants as fs } from 'node:fs/promises'
import { delimiter, dirname, join, relative, isAbsolute, resolve } from 'node:path'
import type { DiskFormat } from './disk-format.js'
import { CorruptImageFileError, DiskToolMissingError, ImageFileError } from './errors.js'
import { QEMU_INFO_MAX_BYTES, QEMU_INFO_TIMEOUT_MS, TOOL_STDERR_MAX_BYTES } from './constants.js'

/** Debian package of each tool, for the install hint. */
const PACKAGE_OF: Record<string, string> = { 'qemu-img': 'qemu-utils', 'qemu-nbd': 'qemu-utils', nbdcopy: 'libnbd-bin' }

/** The tool's path on PATH, or DiskToolMissingError with the install hint. */
export async function findTool (name: string, why: string): Promise<string> {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue
    const path = join(dir, name)
    try {
      await access(path, fs.X_OK)
      return path
    } catch {}
  }
  throw new DiskToolMissingError(`${name} is not installed (${why}): install it with: apt-get install -y ${PACKAGE_OF[name] ?? name}`)
}

/** First line of a tool's complaint that says something (qemu prefixes its name). */
export function firstLine (stderr: string): string {
  const line = stderr.split('\n').map(l => l.trim()).find(l => l !== '') ?? 'no message'
  return line.replace(/^(qemu-img|qemu-nbd|nbdcopy): /, '').slice(0, 300)
}

export interface DiskInfo {
  format: DiskFormat
  /** Length of the disk in bytes (what a raw copy of it holds). */
  virtualSize: number
}

interface QemuInfoJson {
  'virtual-size'?: unknown
  'backing-filename'?: unknown
  'format-specific'?: { type?: string, data?: { 'data-file'?: unknown, extents?: Array<{ filename?: unknown }> } }
}

/**
 * `qemu-img info --output=json` of a file read as `format`: its virtual size, after
 * refusing what would make qemu read other files (a backing file, an external
 * data file, VMDK extents outside the descriptor's directory).
 */
export async function diskInfo (file: string, format: DiskFormat): Promise<DiskInfo> {
  const qemuImg = await findTool('qemu-img', `needed to read ${format} images`)
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(qemuImg, ['info', '--output=json', '-f', format, file], { timeout: QEMU_INFO_TIMEOUT_MS, maxBuffer: QEMU_INFO_MAX_BYTES }, (err, out, errOut) => {
      if (err !== null) reject(new CorruptImageFileError(`cannot read ${file} as ${format}: ${firstLine(errOut)}`, { cause: err }))
      else resolve(out)
    })
  })
  let info: QemuInfoJson
  try {
    info = JSON.parse(stdout) as QemuInfoJson
  } catch (err) {
    throw new CorruptImageFileError(`cannot read ${file} as ${format}: qemu-img info gave no JSON`, { cause: err })
  }
  const size = info['virtual-size']
  if (typeof size !== 'number' || !Number.isSafeInteger(size) || size <= 0) throw new CorruptImageFileError(`cannot read ${file} as ${format}: no valid virtual size`)
  if (info['backing-filename'] !== undefined) {
    throw new ImageFileError(`${file} has a backing file (${String(info['backing-filename']).slice(0, 200)}): flatten it first with: qemu-img convert -O ${format} ${file} flat.${format}`)
  }
  const data = info['format-specific']?.data
  if (data?.['data-file'] !== undefined) throw new ImageFileError(`${file} keeps its data in an external file: flatten it first with: qemu-img convert -O qcow2 ${file} flat.qcow2`)
  const dir = dirname(resolve(file))
  for (const extent of data?.extents ?? []) {
    if (typeof extent.filename !== 'string') continue
    const rel = relative(dir, resolve(dir, extent.filename))
    if (rel.startsWith('..') || isAbsolute(rel)) throw new ImageFileError(`${file} refers to an extent outside its directory (${extent.filename.slice(0, 200)}): keep the VMDK's files together`)
  }
  return { format, virtualSize: size }
}

/** A running tool whose stdout is consumed elsewhere; `done` settles with its exit (rejects with its first stderr line). */
export interface ToolRun {
  child: ChildProcess
  done: Promise<void>
}

function runTool (path: string, args: string[], fail: (line: string) => Error, signal?: AbortSignal): ToolRun {
  const child = spawn(path, args, { stdio: ['ignore', 'pipe', 'pipe'], signal })
  let stderr = ''
  child.stderr?.on('data', (d: Buffer) => { if (stderr.length < TOOL_STDERR_MAX_BYTES) stderr += d.toString() })
  const done = new Promise<void>((resolve, reject) => {
    child.once('error', (err) => { reject(signal?.aborted === true ? signal.reason : fail(err.message)) })
    child.once('close', (code, sig) => {
      if (code === 0) resolve()
      else reject(signal?.aborted === true ? signal.reason : fail(stderr !== '' ? firstLine(stderr) : `exited with ${code ?? sig}`))
    })
  })
  done.catch(() => {}) // observed by whoever awaits it; an early abort must not crash the process
  return { child, done }
}

/**
 * The disk's raw bytes, in order, on the returned child's stdout: nbdcopy reads
 * an NBD export of it that qemu-nbd (started by nbdcopy, socket-activated, read-only)
 * serves, so no raw copy of the disk is ever written.
 */
export async function rawStream (file: string, format: DiskFormat, signal?: AbortSignal): Promise<ToolRun> {
  const why = `needed to stream ${format} images`
  const [qemuNbd, nbdcopy] = [await findTool('qemu-nbd', why), await findTool('nbdcopy', why)]
  return runTool(nbdcopy, ['--', '[', qemuNbd, '--read-only', '--format', format, '--', resolve(file), ']', '-'],
    (line) => new CorruptImageFileError(`cannot read ${file} as ${format}: ${line}`), signal)
}

/** `qemu-img convert` of a raw NBD export (nbd+unix:///NAME?socket=PATH) into a new file of `format`. */
export async function convertFromNbd (init: { socketPath: string, exportName: string, format: DiskFormat, file: string, signal?: AbortSignal }): Promise<void> {
  const qemuImg = await findTool('qemu-img', `needed to write ${init.format} images`)
  const source = `nbd+unix:///${encodeURIComponent(init.exportName)}?socket=${init.socketPath}`
  const run = runTool(qemuImg, ['convert', '-f', 'raw', '-O', init.format, source, init.file],
    (line) => new ImageFileError(`cannot write ${init.file} as ${init.format}: ${line}`), init.signal)
  await run.done
}
