/**
 * What the project's tests share. Waiting is polling with a bound: a test
 * that waits for something that never comes fails with what it waited for
 * (and, for `until`, the last value seen), never hangs.
 */
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

export interface WaitOptions {
  /** Give up after this long. Default 20 s. */
  timeoutMs?: number
  /** Between two looks. Default 50 ms. */
  intervalMs?: number
  /** What is awaited, for the message when it does not come. */
  what?: string
  /** A look that throws counts as "not yet" (a daemon still starting), instead of failing the wait. */
  ignoreErrors?: boolean
}

export class WaitTimeoutError extends Error {
  override name = 'WaitTimeoutError'
}

export async function sleep (ms: number): Promise<void> {
  await new Promise(resolve => setTimeout(resolve, ms))
}

/** Resolves once `predicate` holds; throws WaitTimeoutError after `timeoutMs`. */
export async function waitFor (predicate: () => boolean | Promise<boolean>, options: WaitOptions = {}): Promise<void> {
  await until(predicate, held => held, options)
}

/** Looks with `get` until `ok` holds for what it answers, and returns that; throws WaitTimeoutError (with the last value) after `timeoutMs`. */
export async function until<T> (get: () => T | Promise<T>, ok: (value: T) => boolean, options: WaitOptions = {}): Promise<T> {
  const { timeoutMs = 20_000, intervalMs = 50, what = 'a condition', ignoreErrors = false } = options
  const deadline = Date.now() + timeoutMs
  let last: { value: T } | { error: unknown } | undefined
  for (;;) {
    try {
      const value = await get()
      if (ok(value)) return value
      last = { value }
    } catch (error) {
      if (!ignoreErrors) throw error
      last = { error }
    }
    if (Date.now() > deadline) throw new WaitTimeoutError(`timed out after ${timeoutMs} ms waiting for ${what}${describe(last)}`)
    await sleep(intervalMs)
  }
}

function describe (last: { value: unknown } | { error: unknown } | undefined): string {
  if (last === undefined) return ''
  if ('error' in last) return `; last look failed: ${last.error instanceof Error ? last.error.message : String(last.error)}`
  if (typeof last.value === 'boolean') return ''
  const text = JSON.stringify(last.value) ?? String(last.value)
  return `; last: ${text.length > 500 ? `${text.slice(0, 500)}...` : text}`
}

/** Temporary directories made for tests, removed together by `removeAll` (call it from `after`). */
export class TempDirs {
  private readonly made: string[] = []

  async make (prefix = 'cachecloud-test-'): Promise<string> {
    const dir = await mkdtemp(join(tmpdir(), prefix))
    this.made.push(dir)
    return dir
  }

  async removeAll (): Promise<void> {
    const dirs = this.made.splice(0)
    await Promise.all(dirs.map(async dir => { await rm(dir, { recursive: true, force: true }) }))
  }
}

/** A clock a test moves by hand: `now` in milliseconds (as performance.now()), `date` the wall clock it implies. */
export interface ManualClock {
  now: () => number
  date: () => Date
  advance: (ms: number) => void
}

export function manualClock (startMs = 1_000, wallStart = new Date(2026, 0, 1, 12)): ManualClock {
  let t = startMs
  return {
    now: () => t,
    date: () => new Date(wallStart.getTime() + t - startMs),
    advance: (ms) => { t += ms }
  }
}

/**
 * `length` bytes of text-like data, the same for the same `seed`: varied phrases repeated at long range, so that zstd
 * shrinks them at level 3 and further at 15-19 (what tests of compression at rest need; random bytes do not shrink).
 */
export function textLikeBytes (seed: number, length = 256 * 1024): Buffer {
  const phrases = Array.from({ length: 400 }, (_, i) => `line ${(i * 7919 + seed) % 100_003} of the configuration for module ${i % 37}; `)
  const parts: string[] = []
  let n = 0
  let x = seed
  while (n < length) {
    x = (x * 1103515245 + 12345) & 0x7fffffff
    const p = phrases[x % phrases.length] as string
    parts.push(p)
    n += p.length
  }
  return Buffer.from(parts.join('').slice(0, length))
}
