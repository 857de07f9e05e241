import { readFile, stat } from 'node:fs/promises'
import { USER_PATTERN } from './constants.js'
import { InvalidEnrollmentError, NotEnrolledError } from './errors.js'
import { writeFileAtomic600 as writeFileAtomic } from './fs.js'
import { withLockFile } from './lock.js'

/** Which users each enrolled node may write. Kept as JSON: `{ "nodes": { "<peer id>": { "users": [...], "enrolledAt": "..." } } }`. */
export interface EnrollmentTable {
  nodes: Record<string, { users: string[], enrolledAt: string }>
}

const PEER_ID_PATTERN = /^[1-9A-HJ-NP-Za-km-z]{20,128}$/

export function assertValidUser (user: string): void {
  if (!USER_PATTERN.test(user)) throw new InvalidEnrollmentError(`invalid user name ${JSON.stringify(user)}: 1-128 letters, digits, '.', '_', '@' or '-'`)
}

function assertValidPeer (peerId: string): void {
  if (!PEER_ID_PATTERN.test(peerId)) throw new InvalidEnrollmentError(`not a peer id: ${JSON.stringify(peerId)}`)
}

/**
 * The enrollment table, cached: `refresh` (once per inbound stream) costs a
 * stat and rereads the file only when it changed (another process enrolled or
 * unenrolled a node: an atomic replace gives a new inode). Changes are made
 * under a lock file, read-modify-write, so two admin commands lose nothing.
 */
export class Enrollment {
  private table: EnrollmentTable = { nodes: {} }
  private version = ''

  constructor (private readonly path: string) {}

  /** Rereads the table if the file changed since it was read. */
  async refresh (): Promise<void> {
    const st = await stat(this.path).catch((err: NodeJS.ErrnoException) => { if (err.code === 'ENOENT') return undefined; throw err })
    const version = st === undefined ? 'none' : `${st.ino}:${st.size}:${st.mtimeMs}`
    if (version === this.version) return
    this.table = st === undefined ? { nodes: {} } : JSON.parse(await readFile(this.path, 'utf8')) as EnrollmentTable
    this.version = version
  }

  /** Reads the table now. */
  async load (): Promise<void> {
    this.version = ''
    await this.refresh()
  }

  private async change (fn: (table: EnrollmentTable) => void): Promise<void> {
    await withLockFile(this.path + '.lock', async () => {
      await this.load()
      fn(this.table)
      await writeFileAtomic(this.path, JSON.stringify(this.table, null, 2) + '\n')
      await this.load()
    })
  }

  /** Enrolls a node for users (added to those it already has). */
  async enroll (peerId: string, users: string[]): Promise<void> {
    assertValidPeer(peerId)
    users.forEach(assertValidUser)
    await this.change(table => {
      const entry = table.nodes[peerId] ?? { users: [], enrolledAt: new Date().toISOString() }
      entry.users = [...new Set([...entry.users, ...users])].sort()
      table.nodes[peerId] = entry
    })
  }

  /** Removes a node (a lost or stolen machine): its next stream is refused. Returns the users it could write. */
  async unenroll (peerId: string): Promise<string[]> {
    assertValidPeer(peerId)
    let users: string[] = []
    await this.change(table => {
      const entry = table.nodes[peerId]
      if (entry === undefined) throw new NotEnrolledError(`node ${peerId} is not enrolled`)
      users = entry.users
      delete table.nodes[peerId]
    })
    return users
  }

  isEnrolled (peerId: string): boolean { return Object.hasOwn(this.table.nodes, peerId) }
  mayWrite (peerId: string, user: string): boolean { return this.isEnrolled(peerId) && this.table.nodes[peerId].users.includes(user) }
  list (): EnrollmentTable { return structuredClone(this.table) }
}
