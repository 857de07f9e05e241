/**
 * Retention policies (config "retention"): per image, keep the last N
 * complete versions and/or those created after a date or within a duration;
 * "*" applies to images without a policy of their own. A version is kept
 * when any rule keeps it, and always when it is in use (served over NBD,
 * being pulled or exported), not complete, or the only complete version of
 * a subscribed image left. Pure: the caller says what is in use and when now is.
 */
import { assertValidLabel, formatVersionRef } from '@cachecloud/core'
import type { PruneDecision } from '@cachecloud/control'
import { RETENTION_DEFAULT_KEY } from './constants.js'

export interface RetentionRule {
  /** Keep the newest N complete versions (N >= 1). */
  keepLast?: number
  /** Keep versions created after this: an ISO date/time (`2026-11-01`) or a duration back from now (`90m`, `12h`, `30d`, `8w`). */
  keepNewerThan?: string
}

export interface RetentionConfig {
  /** Image name (or "*") -> its policy. */
  retention?: Record<string, RetentionRule>
}

const DURATION = /^(\d{1,6})(m|h|d|w)$/
const UNIT_MS: Record<string, number> = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** The time (ms) before which a version is not kept by `keepNewerThan`; undefined when the text is neither a date nor a duration. */
export function newerThanCutoff (text: string, now: number): number | undefined {
  const match = DURATION.exec(text)
  if (match !== null) return now - Number(match[1]) * (UNIT_MS[match[2] as string] as number)
  if (!/^\d{4}-\d{2}-\d{2}/.test(text)) return undefined
  const at = Date.parse(text)
  return Number.isNaN(at) ? undefined : at
}

/** Checks the "retention" field (its shape is checked by the schema); the first problem, one line naming the key, goes to `reject`. */
export function parseRetentionFields (doc: Record<string, unknown>, reject: (why: string) => never): RetentionConfig {
  const retention = doc.retention as Record<string, RetentionRule> | undefined
  if (retention === undefined) return {}
  for (const [name, rule] of Object.entries(retention)) {
    if (name !== RETENTION_DEFAULT_KEY) {
      try { assertValidLabel('image name', name) } catch { reject(`"retention": ${JSON.stringify(name)} is not an image name (letters, digits, ".", "_" or "-"), nor "*"`) }
    }
    if (rule.keepLast === undefined && rule.keepNewerThan === undefined) reject(`"retention.${name}" needs "keepLast" or "keepNewerThan"`)
    if (rule.keepNewerThan !== undefined && newerThanCutoff(rule.keepNewerThan, Date.now()) === undefined) {
      reject(`"retention.${name}.keepNewerThan" must be a date (2026-11-01) or a duration (90m, 12h, 30d, 8w), got ${JSON.stringify(rule.keepNewerThan)}`)
    }
  }
  return { retention }
}

/** The policy in effect for an image, if any. */
export function policyFor (config: RetentionConfig, name: string): RetentionRule | undefined {
  return config.retention?.[name] ?? config.retention?.[RETENTION_DEFAULT_KEY]
}

export interface RetentionVersion { name: string, version: string, state: 'complete' | 'pulling', createdAt: string }

export interface RetentionInput {
  versions: RetentionVersion[]
  rule: RetentionRule
  now: number
  /** NAME@VERSION -> why it is in use now. */
  inUse: Map<string, string>
  subscribed: boolean
}

/** Which versions of one image the rule removes and which it keeps (with the reasons). */
export function applyRetention (input: RetentionInput): { remove: PruneDecision[], keep: PruneDecision[] } {
  const { rule } = input
  const newestFirst = [...input.versions].sort((a, b) => Date.parse(b.createdAt) - Date.parse(a.createdAt) || b.version.localeCompare(a.version))
  const cutoff = rule.keepNewerThan === undefined ? undefined : newerThanCutoff(rule.keepNewerThan, input.now)
  const decisions: Array<PruneDecision & { complete: boolean }> = []
  let completeSeen = 0
  for (const v of newestFirst) {
    const ref = formatVersionRef(v)
    const reasons: string[] = []
    const use = input.inUse.get(ref)
    if (use !== undefined) reasons.push(use)
    if (v.state !== 'complete') {
      reasons.push('not complete')
    } else {
      completeSeen++
      if (rule.keepLast !== undefined && completeSeen <= rule.keepLast) reasons.push(`last ${rule.keepLast}`)
      if (cutoff !== undefined && Date.parse(v.createdAt) >= cutoff) reasons.push(`newer than ${rule.keepNewerThan as string}`)
    }
    decisions.push({ ref, reasons, complete: v.state === 'complete' })
  }
  // a subscribed image keeps its newest complete version whatever the rules say
  if (input.subscribed && !decisions.some(d => d.complete && d.reasons.length > 0)) {
    const newest = decisions.find(d => d.complete)
    newest?.reasons.push('only complete version of a subscribed image')
  }
  const strip = ({ ref, reasons }: PruneDecision): PruneDecision => ({ ref, reasons })
  return { remove: decisions.filter(d => d.reasons.length === 0).map(strip), keep: decisions.filter(d => d.reasons.length > 0).map(strip) }
}
