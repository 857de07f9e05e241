/**
 * A bootable Debian image for the VM-boot benchmark: debootstrap minbase
 * plus systemd, udev, a kernel and its initramfs, on an ext4 image (mke2fs
 * -d), with the kernel and initrd copied beside it for qemu's direct kernel
 * boot. Built once as root and cached (like the OS-update images).
 */
import { createHash } from 'node:crypto'
import { access, copyFile, mkdir, mkdtemp, readdir, rename, rm, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import { debianMirror, defaultRootfsCacheDir, requireTools, RootRequiredError, runOk } from '@cachecloud/fixtures'

export interface BootImage {
  image: string
  kernel: string
  initrd: string
  built: boolean
}

const SUITE = 'bookworm'
const SIZE_MIB = 2048
const PACKAGES = ['systemd-sysv', 'udev', 'linux-image-amd64', 'initramfs-tools', 'zstd']
const MARKER = 'BUILT'

async function exists (path: string): Promise<boolean> {
  try { await access(path); return true } catch { return false }
}

export async function debianBootImage (say: (line: string) => void): Promise<BootImage> {
  const mirror = await debianMirror(SUITE)
  const description = JSON.stringify({ suite: SUITE, variant: 'minbase', include: PACKAGES, mirror, sizeMiB: SIZE_MIB, fs: 'ext4', boot: 'direct-kernel' })
  const key = createHash('sha256').update(description).digest('hex').slice(0, 16)
  const dir = join(dirname(defaultRootfsCacheDir()), 'vm-boot', `${SUITE}-${key}`)
  const result = { image: join(dir, 'root.raw'), kernel: join(dir, 'vmlinuz'), initrd: join(dir, 'initrd.img') }
  if (await exists(join(dir, MARKER))) return { ...result, built: false }
  if (process.getuid?.() !== 0) throw new RootRequiredError(`building the bootable ${SUITE} image needs root (debootstrap); run as root or use a cache at ${dir}`)
  await requireTools(['debootstrap', 'mke2fs'])
  await mkdir(dirname(dir), { recursive: true })
  const work = await mkdtemp(`${dir}.building-`)
  try {
    const root = join(work, 'root')
    say(`building the bootable image in ${dir} (debootstrap ${SUITE} with ${PACKAGES.join(', ')})`)
    await runOk('debootstrap', ['--variant=minbase', `--include=${PACKAGES.join(',')}`, SUITE, root, mirror])
    await writeFile(join(root, 'etc/fstab'), '/dev/vda / ext4 defaults 0 1\n')
    await writeFile(join(root, 'etc/hostname'), 'cachecloud-boot\n')
    const boot = await readdir(join(root, 'boot'))
    const kernel = boot.find(f => f.startsWith('vmlinuz-'))
    const initrd = boot.find(f => f.startsWith('initrd.img-'))
    if (kernel === undefined || initrd === undefined) throw new Error(`debootstrap left no kernel or initrd in /boot (${boot.join(', ')})`)
    await copyFile(join(root, 'boot', kernel), join(work, 'vmlinuz'))
    await copyFile(join(root, 'boot', initrd), join(work, 'initrd.img'))
    await runOk('mke2fs', ['-q', '-F', '-t', 'ext4', '-d', root, join(work, 'root.raw'), `${SIZE_MIB}M`])
    await rm(root, { recursive: true, force: true })
    await writeFile(join(work, MARKER), description + '\n')
    await rm(dir, { recursive: true, force: true })
    await rename(work, dir)
  } finally {
    await rm(work, { recursive: true, force: true })
  }
  return { ...result, built: true }
}
