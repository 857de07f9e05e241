// Matter and hold rows as both index backends store them (same columns; BIGINT comes back from pg as a string).
import type { HoldRow, MatterRow } from './version-index.js'

type Ms = number | string | null
export interface MatterSql { id: string, name: string, custodians: string, from_ms: Ms, to_ms: Ms, created_ms: number | string, created_by: string }
export interface HoldSql {
  id: string, matter: string, custodian: string, from_ms: Ms, to_ms: Ms, glob: string | null, placed_ms: number | string, placed_by: string,
  reason: string, released_ms: Ms, released_by: string | null, release_reason: string | null
}

const ms = (v: Ms): number | null => v === null ? null : Number(v)

export const matterSql = (m: MatterRow): MatterSql => ({
  id: m.id, name: m.name, custodians: JSON.stringify(m.custodians), from_ms: m.fromMs, to_ms: m.toMs, created_ms: m.createdMs, created_by: m.createdBy
})
export const toMatter = (r: MatterSql): MatterRow => ({
  id: r.id, name: r.name, custodians: JSON.parse(r.custodians) as string[], fromMs: ms(r.from_ms), toMs: ms(r.to_ms), createdMs: Number(r.created_ms),
  createdBy: r.created_by
})
export const holdSql = (h: HoldRow): HoldSql => ({
  id: h.id, matter: h.matter, custodian: h.custodian, from_ms: h.fromMs, to_ms: h.toMs, glob: h.glob, placed_ms: h.placedMs, placed_by: h.placedBy,
  reason: h.reason, released_ms: h.releasedMs, released_by: h.releasedBy, release_reason: h.releaseReason
})
export const toHold = (r: HoldSql): HoldRow => ({
  id: r.id, matter: r.matter, custodian: r.custodian, fromMs: ms(r.from_ms), toMs: ms(r.to_ms), glob: r.glob, placedMs: Number(r.placed_ms),
  placedBy: r.placed_by,
  reason: r.reason, releasedMs: ms(r.released_ms), releasedBy: r.released_by, releaseReason: r.release_reason
})
