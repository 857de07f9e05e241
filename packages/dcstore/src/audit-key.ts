import { createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto'
import { readFile, realpath } from 'node:fs/promises'
import { dirname, relative, resolve, isAbsolute, basename, join } from 'node:path'
import { AUDIT_KEY_FORMAT } from './constants.js'
import { InvalidAuditKeyError } from './errors.js'
import { writeFileAtomic600 } from './fs.js'

/**
 * The audit log's signing key (ed25519). Whoever writes the data directory
 * can recompute a hash chain; without this key they cannot sign one, so it
 * is kept outside the data directory (docs/formats/dcstore.md#audit-key).
 */
export interface AuditKey {
  /** `ed25519:<base64url of the 32-byte public key>`: names the key in every entry. */
  id: string
  publicKey: KeyObject
  /** Absent in a public-only key file: enough to verify, not to append. */
  privateKey?: KeyObject
}

const PREFIX = 'ed25519:'

function fromJwk (x: string, d?: string): AuditKey {
  const publicKey = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x }, format: 'jwk' })
  const privateKey = d === undefined ? undefined : createPrivateKey({ key: { kty: 'OKP', crv: 'Ed25519', x, d }, format: 'jwk' })
  return { id: PREFIX + x, publicKey, ...(privateKey === undefined ? {} : { privateKey }) }
}

/** A new audit key pair. */
export function generateAuditKey (): AuditKey {
  const { privateKey } = generateKeyPairSync('ed25519')
  const jwk = privateKey.export({ format: 'jwk' })
  return fromJwk(jwk.x!, jwk.d!)
}

/** The key file's text: `{ format, publicKey, privateKey? }` (privateKey left out for a verifier's copy). */
export function formatAuditKey (key: AuditKey, options: { publicOnly?: boolean } = {}): string {
  const file: Record<string, string> = { format: AUDIT_KEY_FORMAT, publicKey: key.id }
  if (options.publicOnly !== true && key.privateKey !== undefined) file.privateKey = PREFIX + key.privateKey.export({ format: 'jwk' }).d!
  return JSON.stringify(file, null, 2) + '\n'
}

const B64URL32 = /^[A-Za-z0-9_-]{43}$/

/** Parses a key file's text (or a bare `ed25519:...` public key); InvalidAuditKeyError when it is not one. */
export function parseAuditKey (text: string, source = 'audit key'): AuditKey {
  const bare = text.trim()
  if (bare.startsWith(PREFIX) && B64URL32.test(bare.slice(PREFIX.length))) return fromJwk(bare.slice(PREFIX.length))
  let file: { format?: unknown, publicKey?: unknown, privateKey?: unknown }
  try { file = JSON.parse(text) as typeof file } catch { throw new InvalidAuditKeyError(`${source} is not an audit key file (JSON from \`dcstore audit keygen\`)`) }
  const field = (v: unknown): string | undefined => typeof v === 'string' && v.startsWith(PREFIX) && B64URL32.test(v.slice(PREFIX.length)) ? v.slice(PREFIX.length) : undefined
  const x = field(file.publicKey)
  const d = file.privateKey === undefined ? undefined : field(file.privateKey)
  if (file.format !== AUDIT_KEY_FORMAT || x === undefined || (file.privateKey !== undefined && d === undefined)) {
    throw new InvalidAuditKeyError(`${source} is not an audit key file (format ${AUDIT_KEY_FORMAT} from \`dcstore audit keygen\`)`)
  }
  const key = fromJwk(x, d)
  if (key.privateKey !== undefined && createPublicKey(key.privateKey).export({ format: 'jwk' }).x !== x) throw new InvalidAuditKeyError(`${source}: its public key does not match its private key`)
  return key
}

/** Whether `path` lies inside `dir` (both resolved through symlinks as far as they exist). */
async function inside (path: string, dir: string): Promise<boolean> {
  const real = async (p: string): Promise<string> => {
    try { return await realpath(p) } catch { return join(await real(dirname(p)), basename(p)) }
  }
  const rel = relative(await real(resolve(dir)), await real(resolve(path)))
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel))
}

/**
 * Reads the audit key file, refusing one inside the data directory: a key
 * beside the log it signs protects nothing from whoever can write that log.
 */
export async function readAuditKey (path: string, dataDir: string): Promise<AuditKey> {
  if (await inside(path, dataDir)) throw new InvalidAuditKeyError(`audit key ${path} is inside the data directory ${dataDir}: keep it elsewhere (whoever can write the log could sign with it)`)
  let text: string
  try { text = await readFile(path, 'utf8') } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new InvalidAuditKeyError(`audit key ${path} does not exist (create it with \`dcstore audit keygen --out ${path}\`)`)
    throw err
  }
  return parseAuditKey(text, `audit key ${path}`)
}

/** Writes a new key pair to `path` (mode 0600, refused inside the data directory); returns it. */
export async function writeAuditKey (path: string, dataDir?: string): Promise<AuditKey> {
  if (dataDir !== undefined && await inside(path, dataDir)) throw new InvalidAuditKeyError(`audit key ${path} would be inside the data directory ${dataDir}: keep it elsewhere`)
  const key = generateAuditKey()
  await writeFileAtomic600(path, formatAuditKey(key))
  return key
}

/** ed25519 signature (base64url) of a domain-separated message. */
export function signText (key: AuditKey, text: string): string {
  return sign(null, Buffer.from(text), key.privateKey!).toString('base64url')
}

export function verifyText (key: AuditKey, text: string, sig: unknown): boolean {
  if (typeof sig !== 'string' || !/^[A-Za-z0-9_-]{86}$/.test(sig)) return false
  return verify(null, Buffer.from(text), key.publicKey, Buffer.from(sig, 'base64url'))
}
