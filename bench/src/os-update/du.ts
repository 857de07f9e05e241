import { execFile } from 'node:child_process'
import { promisify } from 'node:util'

const run$ = promisify(execFile)

/** Size of a directory tree: apparent (sum of file lengths) and allocated (disk blocks), as `du` counts them. */
export interface TreeSize { apparent: number, allocated: number }

export async function du (path: string): Promise<TreeSize> {
  const bytes = async (flag: string): Promise<number> => {
    const { stdout } = await run$('du', ['-s', flag, path])
    return Number(stdout.split(/\s/)[0])
  }
  return { apparent: await bytes('-b'), allocated: await bytes('-B1') }
}

/** Wall-clock milliseconds of `fn`, with its result. */
export async function timed<T> (fn: () => Promise<T>): Promise<{ value: T, ms: number }> {
  const started = performance.now()
  const value = await fn()
  return { value, ms: performance.now() - started }
}
