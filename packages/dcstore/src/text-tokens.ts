// The text index holds no plaintext (the store's files never do: docs/formats/dcstore.md#text-index).
// Each word is indexed as a keyed hash of it (a blind token), in order, so
// that words and phrases are found by hashing the query's words the same way;
// the text itself is kept sealed (chacha20-poly1305) only to show snippets.
// Both keys derive from the discovery private key, so indexing and searching
// need it, as exporting does.
import { createCipheriv, createDecipheriv, createHmac, hkdfSync, randomBytes } from 'node:crypto'
import { TextIndexKeyError } from './errors.js'

export interface TextKeys {
  token: Buffer
  seal: Buffer
  /** Words already hashed (words repeat: a vocabulary, not a stream), bounded. */
  cache: Map<string, string>
}

/** Most words whose blind token is kept for reuse. */
const CACHE_WORDS = 200_000

const INFO_TOKEN = 'cachecloud/text-index/token/1'
const INFO_SEAL = 'cachecloud/text-index/seal/1'
/** Longest word indexed (longer runs are cut: a base64 blob is no word). */
const MAX_WORD = 64

export function textKeys (discoveryPrivateKey: Uint8Array): TextKeys {
  const derive = (info: string): Buffer => Buffer.from(hkdfSync('sha256', discoveryPrivateKey, 'cachecloud-text-index', info, 32))
  return { token: derive(INFO_TOKEN), seal: derive(INFO_SEAL), cache: new Map() }
}

export interface Word { word: string, start: number, end: number }

/** The words of a text (letters and digits, lowercase, without diacritics), each with where it stands in the text. */
export function words (text: string): Word[] {
  const out: Word[] = []
  // ASCII (most text): letters and digits are the words, NFKD changes nothing
  if (!/[^\u0000-\u007f]/.test(text)) {
    for (const m of text.matchAll(/[A-Za-z0-9]+/g)) out.push({ word: m[0].slice(0, MAX_WORD).toLowerCase(), start: m.index, end: m.index + m[0].length })
    return out
  }
  for (const m of text.matchAll(/[\p{L}\p{N}\p{M}]+/gu)) {
    const norm = m[0].normalize('NFKD').replace(/\p{M}/gu, '').toLowerCase()
    for (const w of norm.match(/[\p{L}\p{N}]+/gu) ?? []) out.push({ word: w.slice(0, MAX_WORD), start: m.index, end: m.index + m[0].length })
  }
  return out
}

/** A word's blind token: 16 letters a-p from its HMAC (a word for FTS5 and for PostgreSQL's parser alike). */
export function blind (keys: TextKeys, word: string): string {
  let out = keys.cache.get(word)
  if (out !== undefined) return out
  const mac = createHmac('sha256', keys.token).update(word).digest()
  out = ''
  for (let i = 0; i < 8; i++) out += String.fromCharCode(97 + (mac[i] >> 4), 97 + (mac[i] & 15))
  if (keys.cache.size >= CACHE_WORDS) keys.cache.clear()
  keys.cache.set(word, out)
  return out
}

/** The text as the index holds it: its words' blind tokens, in order. */
export function blindText (keys: TextKeys, text: string): string {
  return words(text).map(w => blind(keys, w.word)).join(' ')
}

/** A phrase of the query as blind tokens ('' when it has no word). */
export function blindPhrase (keys: TextKeys, phrase: string): string {
  return blindText(keys, phrase)
}

export function sealText (keys: TextKeys, text: string): Buffer {
  const nonce = randomBytes(12)
  const c = createCipheriv('chacha20-poly1305', keys.seal, nonce, { authTagLength: 16 })
  const body = Buffer.concat([c.update(text, 'utf8'), c.final()])
  return Buffer.concat([nonce, c.getAuthTag(), body])
}

export function openText (keys: TextKeys, sealed: Uint8Array): string {
  const b = Buffer.from(sealed)
  try {
    const d = createDecipheriv('chacha20-poly1305', keys.seal, b.subarray(0, 12), { authTagLength: 16 })
    d.setAuthTag(b.subarray(12, 28))
    return Buffer.concat([d.update(b.subarray(28)), d.final()]).toString('utf8')
  } catch {
    throw new TextIndexKeyError('the text index was built with another discovery key (or its text was altered)')
  }
}

/** A short passage around the first place the phrases' words occur, the match in [brackets]. */
export function snippet (text: string, phrases: string[], around = 8): string {
  const ws = words(text)
  const wanted = phrases.map(p => words(p).map(w => w.word)).filter(p => p.length > 0)
  for (const phrase of wanted) {
    for (let i = 0; i + phrase.length <= ws.length; i++) {
      if (!phrase.every((w, k) => ws[i + k].word === w)) continue
      const from = ws[Math.max(0, i - around)].start
      const to = ws[Math.min(ws.length - 1, i + phrase.length - 1 + around)].end
      const a = ws[i].start
      const b = ws[i + phrase.length - 1].end
      return `${from > 0 ? '…' : ''}${text.slice(from, a)}[${text.slice(a, b)}]${text.slice(b, to)}${to < text.length ? '…' : ''}`.replace(/\s+/g, ' ')
    }
  }
  return text.slice(0, 120).replace(/\s+/g, ' ')
}
