// Builds the status page (packages/ui/web) into packages/ui/dist/web: app.js
// bundled by esbuild from the TypeScript sources (type-checked by tsc -b,
// project packages/ui/web), index.html, app.css and favicon.svg copied. Run by `npm run build`.
import { copyFile, mkdir } from 'node:fs/promises'
import { join } from 'node:path'
import { build } from 'esbuild'

const src = join('packages', 'ui', 'web')
const out = join('packages', 'ui', 'dist', 'web')
await mkdir(out, { recursive: true })
await build({
  entryPoints: [join(src, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'esm',
  target: ['chrome110', 'firefox110', 'safari16'],
  sourcemap: true,
  logLevel: 'warning'
})
await Promise.all(['index.html', 'app.css', 'favicon.svg'].map(async (name) => copyFile(join(src, name), join(out, name))))
