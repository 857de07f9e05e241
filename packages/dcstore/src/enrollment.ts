import { readFile } from 'node:fs/promises'
import { USER_PATTERN } from './constants.js'
import { InvalidEnrollmentError } from './errors.js'
import { writeFileAtomic600 as writeFileAtomic } from './fs.js'

/** Which users each enrolled node may write. Kept as JSON: `{ "nodes": { "<peer id>": { "users": [...], "enrolledAt": "..." } } }`. */
export interface EnrollmentTable {
  nodes: Record<string, { users: string[], enrolledAt: string }>
}

export function assertValidUser (user: string): void {
  if (!USER_PATTERN.test(user)) throw new InvalidEnrollmentError(`invalid user name ${JSON.stringify(user)}: 1-128 letters, digits, '.', '_', '@' or '-'`)
}

export class Enrollment {
  private table: EnrollmentTable = { nodes: {} }
  constructor (private readonly path: string) {}

  async load (): Promise<void> {
    try {
      this.table = JSON.parse(await readFile(this.path, 'utf8')) as EnrollmentTable
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
      this.table = { nodes: {} }
    }
  }

  /** Enrolls a node for users (added to those it already has). */
  async enroll (peerId: string, users: string[]): Promise<void> {
    if (!/^[1-9A-HJ-NP-Za-km-z]{20,128}$/.test(peerId)) throw new InvalidEnrollmentError(`not a peer id: ${JSON.stringify(peerId)}`)
    users.forEach(assertValidUser)
    await this.load()
    const entry = this.table.nodes[peerId] ?? { users: [], enrolledAt: new Date().toISOString() }
    entry.users = [...new Set([...entry.users, ...users])].sort()
    this.table.nodes[peerId] = entry
    await writeFileAtomic(this.path, JSON.stringify(this.table, null, 2) + '\n')
  }

  isEnrolled (peerId: string): boolean { return this.table.nodes[peerId] !== undefined }
  mayWrite (peerId: string, user: string): boolean { return this.table.nodes[peerId]?.users.includes(user) ?? false }
  list (): EnrollmentTable { return structuredClone(this.table) }
}
