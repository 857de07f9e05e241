import { randomBytes } from 'node:crypto'
import type { AuditEntry, AuditLog } from './audit.js'
import { MATTER_ID_PATTERN, MAX_HOLD_GLOB, MAX_HOLD_REASON, MAX_MATTER_CUSTODIANS, MAX_MATTER_NAME, USER_PATTERN } from './constants.js'
import { HoldNotFoundError, InvalidMatterError, MatterExistsError, MatterNotFoundError, NotInMatterError } from './errors.js'
import type { HoldsGuard } from './holds.js'
import type { HoldRow, MatterRow, VersionIndex } from './version-index.js'

export interface MatterInit {
  id: string
  name: string
  custodians: string[]
  from?: number
  to?: number
}

export interface HoldInit {
  matter: string
  custodian: string
  from?: number
  to?: number
  glob?: string
  /** Why (the complaint, the preservation letter): required, recorded in the hold and the audit log. */
  reason: string
}

export interface MatterView {
  matter: MatterRow
  holds: HoldRow[]
  /** The audit log's entries of this matter (intents naming it and their outcomes), oldest first. */
  trail: AuditEntry[]
}

const iso = (ms: number | null | undefined): string | null => ms === undefined || ms === null ? null : new Date(ms).toISOString()
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/

function checkText (what: string, text: string, max: number): void {
  if (typeof text !== 'string' || text.trim() === '') throw new InvalidMatterError(`${what} is required`)
  if (text.length > max) throw new InvalidMatterError(`${what} is longer than ${max} characters`)
  if (CONTROL.test(text)) throw new InvalidMatterError(`${what} holds control characters`)
}

function checkRange (from: number | undefined, to: number | undefined): void {
  for (const t of [from, to]) if (t !== undefined && !Number.isFinite(t)) throw new InvalidMatterError('a date range needs valid times (ISO-8601)')
  if (from !== undefined && to !== undefined && from > to) throw new InvalidMatterError(`the date range ends (${iso(to)}) before it starts (${iso(from)})`)
}

/**
 * Matters (cases) and their legal holds. Creating a matter, placing and
 * releasing a hold are audited (with who and why); the audit log entries that
 * name a matter are its trail. Retention keeps what any active hold needs
 * (holds.ts).
 */
export class Matters {
  /** `guardHolds` runs a hold's placement with retention kept out (the store's holds lock). */
  constructor (private readonly init: { index: VersionIndex, audit: AuditLog, operator: string, guardHolds: HoldsGuard }) {}

  async create (m: MatterInit): Promise<MatterRow> {
    if (typeof m.id !== 'string' || !MATTER_ID_PATTERN.test(m.id)) throw new InvalidMatterError(`invalid matter id ${JSON.stringify(String(m.id).slice(0, 80))} (letters, digits, . _ -, at most 64)`)
    checkText('a matter name', m.name, MAX_MATTER_NAME)
    const custodians = [...new Set(m.custodians)]
    if (custodians.length === 0) throw new InvalidMatterError('a matter needs at least one custodian')
    if (custodians.length > MAX_MATTER_CUSTODIANS) throw new InvalidMatterError(`a matter has at most ${MAX_MATTER_CUSTODIANS} custodians`)
    for (const c of custodians) if (typeof c !== 'string' || !USER_PATTERN.test(c)) throw new InvalidMatterError(`invalid custodian ${JSON.stringify(String(c).slice(0, 80))}`)
    checkRange(m.from, m.to)
    const row: MatterRow = {
      id: m.id,
      name: m.name,
      custodians,
      fromMs: m.from ?? null,
      toMs: m.to ?? null,
      createdMs: Date.now(),
      createdBy: this.init.operator
    }
    return await this.init.audit.run('matter-create', { matter: m.id, name: m.name, custodians, from: iso(m.from), to: iso(m.to) }, async () => {
      if (!await this.init.index.createMatter(row)) throw new MatterExistsError(`matter ${m.id} exists already`)
      return row
    }, () => ({}))
  }

  async get (id: string): Promise<MatterRow> {
    const m = typeof id === 'string' && MATTER_ID_PATTERN.test(id) ? await this.init.index.getMatter(id) : undefined
    if (m === undefined) throw new MatterNotFoundError(`no matter ${JSON.stringify(String(id).slice(0, 80))}`)
    return m
  }

  async list (): Promise<MatterRow[]> {
    return await this.init.index.matters()
  }

  /** The matter, and `user` one of its custodians (NotInMatterError otherwise). */
  async scope (id: string, user?: string): Promise<MatterRow> {
    const m = await this.get(id)
    if (user !== undefined && !m.custodians.includes(user)) throw new NotInMatterError(`${user} is not a custodian of matter ${m.id} (custodians: ${m.custodians.join(', ')})`)
    return m
  }

  /** The matter, its holds and its audit trail; the log is verified first (AuditChainBrokenError when damaged). */
  async show (id: string): Promise<MatterView> {
    const matter = await this.get(id)
    await this.init.audit.verify()
    const seqs = new Set<number>()
    const trail: AuditEntry[] = []
    for await (const e of this.init.audit.entries()) {
      if (e.kind === 'intent' && e.params?.matter === id) { seqs.add(e.seq); trail.push(e) } else if (e.kind === 'outcome' && seqs.has(e.intent!)) trail.push(e)
    }
    return { matter, holds: await this.init.index.holds({ matter: id }), trail }
  }

  async placeHold (h: HoldInit): Promise<HoldRow> {
    const matter = await this.scope(h.matter, h.custodian)
    checkRange(h.from, h.to)
    checkText('the reason for the hold', h.reason, MAX_HOLD_REASON)
    if (h.glob !== undefined) checkText('a hold\'s path glob', h.glob, MAX_HOLD_GLOB)
    const row: HoldRow = {
      id: `hold-${randomBytes(5).toString('hex')}`, matter: matter.id, custodian: h.custodian, fromMs: h.from ?? null, toMs: h.to ?? null, glob: h.glob ?? null,
      placedMs: Date.now(), placedBy: this.init.operator, reason: h.reason, releasedMs: null, releasedBy: null, releaseReason: null
    }
    const params = { matter: row.matter, hold: row.id, custodian: row.custodian, from: iso(row.fromMs), to: iso(row.toMs), glob: row.glob, reason: row.reason }
    // under the holds lock: a retention deciding now waits, and then sees this hold
    return await this.init.guardHolds(async () => await this.init.audit.run('hold-place', params, async () => { await this.init.index.placeHold(row); return row }, () => ({})))
  }

  /** Releases an active hold; what only it kept is subject to retention again. */
  async releaseHold (id: string, reason: string): Promise<HoldRow> {
    checkText('the reason for the release', reason, MAX_HOLD_REASON)
    const hold = (await this.init.index.holds({})).find(h => h.id === id)
    if (hold === undefined) throw new HoldNotFoundError(`no hold ${JSON.stringify(String(id).slice(0, 80))}`)
    return await this.init.audit.run('hold-release', { matter: hold.matter, hold: id, custodian: hold.custodian, reason }, async () => {
      const released = { releasedMs: Date.now(), releasedBy: this.init.operator, releaseReason: reason }
      if (!await this.init.index.releaseHold(id, released)) throw new HoldNotFoundError(`hold ${id} was released already (${iso(hold.releasedMs) ?? 'just now'})`)
      return { ...hold, ...released }
    }, () => ({}))
  }

  async holds (query: { matter?: string, custodian?: string, active?: boolean } = {}): Promise<HoldRow[]> {
    return await this.init.index.holds(query)
  }
}
