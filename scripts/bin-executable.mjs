// Makes each app's `bin` entry executable after tsc has written it, and links it
// into node_modules/.bin where `npm ci` did not: tsc writes 0644 files, and `npm ci`
// runs before the build, when the bin's target does not exist yet, so npm neither
// chmods nor (on a fresh clone) links it. This is what lets `npx cachepoint` run from
// the repository root. Run by `npm run build`.
import { chmod, lstat, mkdir, readdir, readFile, symlink } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join, relative } from 'node:path'

const binDir = join('node_modules', '.bin')
for (const app of await readdir('apps')) {
  const manifest = join('apps', app, 'package.json')
  if (!existsSync(manifest)) continue
  const { name, bin } = JSON.parse(await readFile(manifest, 'utf8'))
  const entries = typeof bin === 'string' ? [[name, bin]] : Object.entries(bin ?? {})
  for (const [command, path] of entries) {
    const file = join('apps', app, path)
    if (!existsSync(file)) continue
    await chmod(file, 0o755)
    const link = join(binDir, command)
    const present = await lstat(link).then(() => true, () => false)
    if (present) continue
    await mkdir(binDir, { recursive: true })
    await symlink(relative(binDir, file), link)
  }
}
