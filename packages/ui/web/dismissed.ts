/**
 * Failures the user dismissed (PullFailure ids), kept in this origin's
 * localStorage so that a reload does not bring them back (and in memory when
 * storage is off). Bounded: the oldest go first. A new failure has a new id
 * and shows again.
 */
const KEY = 'cachepoint.dismissedFailures'
const MAX = 100
const memory = new Set<string>()

function stored (): string[] {
  try {
    const value = JSON.parse(localStorage.getItem(KEY) ?? '[]') as unknown
    return Array.isArray(value) ? value.filter((v): v is string => typeof v === 'string').slice(-MAX) : []
  } catch {
    return []
  }
}

export function dismissed (): ReadonlySet<string> { return new Set([...stored(), ...memory]) }

export function dismiss (id: string): void {
  memory.add(id)
  const ids = stored().filter(x => x !== id)
  ids.push(id)
  try { localStorage.setItem(KEY, JSON.stringify(ids.slice(-MAX))) } catch { /* storage off: held in memory until the page reloads */ }
}
