import { UsageError } from './errors.js'

/** Commander collector for repeatable options. */
export function collect (value: string, previous: string[] = []): string[] {
  return [...previous, value]
}

export function parseCount (text: string, flag: string): number {
  const value = Number(text)
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new UsageError(`${flag} must be a non-negative integer, got ${JSON.stringify(text)}`)
  }
  return value
}

/** Sizes such as 262144, 256K, 1M. */
export function parseSize (text: string, flag: string): number {
  const match = /^(\d+)([KMG]i?B?)?$/i.exec(text.trim())
  if (match === null) throw new UsageError(`${flag} must be a size such as 262144, 256K or 1M, got ${JSON.stringify(text)}`)
  const unit = (match[2] ?? '').toUpperCase()[0]
  const factor = unit === 'K' ? 1024 : unit === 'M' ? 1024 ** 2 : unit === 'G' ? 1024 ** 3 : 1
  return Number(match[1]) * factor
}
