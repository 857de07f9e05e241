// Text of a file's content for the text index: plain text, PDF (unpdf, the
// serverless build of Mozilla's PDF.js), Office Open XML and OpenDocument
// (zip read with fflate, XML text kept). Runs in the extraction worker
// (text-worker.ts), which bounds its time and memory.
import { unzipSync } from 'fflate'
import { MAX_TEXT_CHARS, MAX_ZIP_ENTRIES, MAX_ZIP_INFLATED_BYTES } from './constants.js'

export type TextKind = 'text' | 'pdf' | 'ooxml' | 'odf'

/** Why a file's text was not (wholly) extracted, as the index records it. */
export class ExtractRefused extends Error {
  constructor (readonly status: 'unsupported' | 'failed', message: string) { super(message) }
}

const TEXT_EXT = new Set(['txt', 'text', 'md', 'markdown', 'csv', 'tsv', 'log', 'json', 'xml', 'html', 'htm', 'eml', 'yaml', 'yml', 'ini', 'cfg', 'conf', 'sql', 'tex', 'srt', 'vtt'])
const OOXML_EXT = new Set(['docx', 'docm', 'dotx', 'xlsx', 'xlsm', 'xltx', 'pptx', 'pptm', 'potx'])
const ODF_EXT = new Set(['odt', 'ott', 'ods', 'ots', 'odp', 'otp'])

export const extensionOf = (path: string): string => {
  const name = path.slice(path.lastIndexOf('/') + 1)
  const dot = name.lastIndexOf('.')
  return dot <= 0 ? '' : name.slice(dot + 1).toLowerCase()
}

/** The kind of a file by its name, else by its first bytes (UTF-8 without NUL is text); undefined: no supported type. */
export function kindOf (path: string, head: Uint8Array): TextKind | undefined {
  const ext = extensionOf(path)
  if (ext === 'pdf') return 'pdf'
  if (OOXML_EXT.has(ext)) return 'ooxml'
  if (ODF_EXT.has(ext)) return 'odf'
  if (TEXT_EXT.has(ext)) return 'text'
  if (head[0] === 0x25 && head[1] === 0x50 && head[2] === 0x44 && head[3] === 0x46) return 'pdf' // %PDF
  const sample = head.subarray(0, 8192)
  if (sample.includes(0)) return undefined
  try { new TextDecoder('utf-8', { fatal: true }).decode(sample.subarray(0, lastWholeChar(sample))); return 'text' } catch { return undefined }
}

/** Length of `b` without a UTF-8 sequence cut at its end. */
function lastWholeChar (b: Uint8Array): number {
  let i = b.length
  for (let k = 0; k < 4 && i > 0 && (b[i - 1] & 0xc0) === 0x80; k++) i--
  return i > 0 && b[i - 1] >= 0xc0 ? i - 1 : b.length
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'", nbsp: ' ' }
function decodeEntities (s: string): string {
  return s.replace(/&(#x[0-9a-fA-F]{1,6}|#[0-9]{1,7}|[a-z]{2,6});/g, (m, e: string) => {
    if (e.startsWith('#')) {
      const cp = e[1] === 'x' ? parseInt(e.slice(2), 16) : parseInt(e.slice(1), 10)
      return cp > 0 && cp <= 0x10ffff ? String.fromCodePoint(cp) : ' '
    }
    return ENTITIES[e] ?? m
  })
}

/** The text of an XML part: block ends become line breaks, tabs and spaces kept, every other tag dropped (runs of one word stay one word). */
export function xmlText (xml: string): string {
  return decodeEntities(xml
    .replace(/<\/(w:p|a:p|text:p|text:h|si|c|row|table:table-row|p|div|li|tr|h[1-6])>|<(br|w:br|w:cr|text:line-break)\b[^>]*>/g, '\n')
    .replace(/<(w:tab|text:tab|text:s|table:table-cell)\b[^>]*\/?>|<\/(table:table-cell|td|th)>/g, ' ')
    .replace(/<!\[CDATA\[([\s\S]*?)\]\]>|<[^>]*>/g, (_m, cdata: string | undefined) => cdata ?? ''))
}

/** Parts of an OOXML or ODF package that hold its text, in reading order. */
function textParts (kind: 'ooxml' | 'odf', names: string[]): string[] {
  const num = (n: string): number => Number(/(\d+)\.xml$/.exec(n)?.[1] ?? 0)
  if (kind === 'odf') return names.filter(n => n === 'content.xml')
  const pick = (re: RegExp): string[] => names.filter(n => re.test(n)).sort((a, b) => num(a) - num(b) || (a < b ? -1 : 1))
  return [
    ...pick(/^word\/(document|footnotes|endnotes|comments|header\d*|footer\d*)\.xml$/),
    ...pick(/^xl\/sharedStrings\.xml$/), ...pick(/^xl\/worksheets\/sheet\d+\.xml$/),
    ...pick(/^ppt\/slides\/slide\d+\.xml$/), ...pick(/^ppt\/notesSlides\/notesSlide\d+\.xml$/)
  ]
}

function zipText (kind: 'ooxml' | 'odf', bytes: Uint8Array): string {
  let entries = 0
  let inflated = 0
  let files: Record<string, Uint8Array>
  try {
    files = unzipSync(bytes, {
      filter: f => {
        if (++entries > MAX_ZIP_ENTRIES) throw new ExtractRefused('failed', `more than ${MAX_ZIP_ENTRIES} entries in the package`)
        const wanted = f.name.endsWith('.xml') && textParts(kind, [f.name]).length === 1
        if (wanted && (inflated += f.originalSize) > MAX_ZIP_INFLATED_BYTES) throw new ExtractRefused('failed', `its text parts inflate to more than ${MAX_ZIP_INFLATED_BYTES} bytes`)
        return wanted
      }
    })
  } catch (err) {
    if (err instanceof ExtractRefused) throw err
    throw new ExtractRefused('failed', `not a readable ${kind === 'odf' ? 'OpenDocument' : 'Office Open XML'} package: ${(err as Error).message}`)
  }
  const parts = textParts(kind, Object.keys(files))
  if (parts.length === 0) throw new ExtractRefused('failed', `no text part in the ${kind === 'odf' ? 'OpenDocument' : 'Office Open XML'} package`)
  const utf8 = new TextDecoder()
  return parts.map(p => xmlText(utf8.decode(files[p]))).join('\n')
}

async function pdfText (bytes: Uint8Array): Promise<string> {
  const { extractText, getDocumentProxy } = await import('unpdf')
  try {
    const doc = await getDocumentProxy(new Uint8Array(bytes), { isEvalSupported: false, stopAtErrors: false, verbosity: 0 })
    try {
      const { text } = await extractText(doc, { mergePages: true })
      return text
    } finally { await doc.destroy() }
  } catch (err) {
    throw new ExtractRefused('failed', `not a readable PDF: ${(err as Error).message}`)
  }
}

/** The text of a file (at most MAX_TEXT_CHARS), or ExtractRefused saying why not. */
export async function extractText (path: string, bytes: Uint8Array): Promise<{ kind: TextKind, text: string, truncated: boolean }> {
  const kind = kindOf(path, bytes.subarray(0, 8192))
  if (kind === undefined) throw new ExtractRefused('unsupported', `no text extractor for ${extensionOf(path) === '' ? 'this binary content' : `.${extensionOf(path)} files`}`)
  let text: string
  if (kind === 'pdf') text = await pdfText(bytes)
  else if (kind === 'ooxml' || kind === 'odf') text = zipText(kind, bytes)
  else {
    text = new TextDecoder().decode(bytes)
    if (/\.(x?html?|xml)$/i.test(path)) text = xmlText(text)
  }
  text = text.replace(/\u0000/g, ' ')
  const truncated = text.length > MAX_TEXT_CHARS
  return { kind, text: truncated ? text.slice(0, MAX_TEXT_CHARS) : text, truncated }
}
