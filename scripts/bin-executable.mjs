// Makes each app's `bin` entry executable after tsc has written it (tsc writes 0644
// files, and `npm ci` links bins before the build, so it cannot chmod them): this is
// what lets `npx cachepoint` run from the repository root. Run by `npm run build`.
import { chmod, readdir, readFile } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { join } from 'node:path'

for (const app of await readdir('apps')) {
  const manifest = join('apps', app, 'package.json')
  if (!existsSync(manifest)) continue
  const { bin } = JSON.parse(await readFile(manifest, 'utf8'))
  const paths = typeof bin === 'string' ? [bin] : Object.values(bin ?? {})
  for (const path of paths) {
    const file = join('apps', app, path)
    if (existsSync(file)) await chmod(file, 0o755)
  }
}
