import { InvalidTimeError } from '@cachecloud/dcstore'

/** An ISO-8601 time argument as ms since the epoch; InvalidTimeError (usage) otherwise. */
export function parseTime (name: string, text: string): number {
  const ms = Date.parse(text)
  if (Number.isNaN(ms)) throw new InvalidTimeError(`--${name.replace(/[A-Z]/g, c => '-' + c.toLowerCase())}: not a time: ${JSON.stringify(text)} (use ISO-8601, e.g. 2026-11-20T12:00:00Z)`)
  return ms
}

/** `{ [name]: ms }` when the option was given, else `{}`. */
export function optionalTime<K extends string> (name: K, text: string | undefined): Partial<Record<K, number>> {
  return text === undefined ? {} : { [name]: parseTime(name, text) } as Partial<Record<K, number>>
}
