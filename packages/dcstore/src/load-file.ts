// Concordance DAT load file (the delimited format review platforms import):
// UTF-8 with a byte-order mark, CRLF line ends, each field in þ (U+00FE)
// quotes, fields separated by U+0014; a newline inside a value becomes ®
// (U+00AE), as Concordance does. docs/formats/dcstore.md#review-export.

export const DAT_QUOTE = '\u00fe'
export const DAT_SEPARATOR = '\u0014'
export const DAT_NEWLINE = '\u00ae'
/** Between the values of a multi-value field (every custodian, every path). */
export const DAT_MULTI = '; '

export const DAT_FIELDS = [
  'DOCID', 'BEGATTACH', 'ENDATTACH', 'PARENT_DOCID', 'ATTACH_DOCIDS', 'CUSTODIAN', 'ALL_CUSTODIANS', 'FILENAME', 'FILE_EXTENSION', 'ORIGINAL_PATH',
  'ALL_PATHS', 'FILE_SIZE', 'SHA256', 'DATE_MODIFIED', 'SNAPSHOT_TIME', 'SNAPSHOT', 'NODE', 'NATIVE_PATH', 'TEXT_STATUS'
] as const
export type DatField = typeof DAT_FIELDS[number]
export type DatRecord = Record<DatField, string>

const cell = (v: string): string => DAT_QUOTE + v.replaceAll(DAT_QUOTE, '').replace(/\r\n|\r|\n/g, DAT_NEWLINE) + DAT_QUOTE

export function datLine (values: readonly string[]): string {
  return values.map(cell).join(DAT_SEPARATOR) + '\r\n'
}

export function formatDat (records: DatRecord[]): string {
  return '\ufeff' + datLine(DAT_FIELDS) + records.map(r => datLine(DAT_FIELDS.map(f => r[f]))).join('')
}

/** Reads a DAT back (tests, and a check after writing): header and records by field name. */
export function parseDat (text: string): { fields: string[], records: Array<Record<string, string>> } {
  const lines = text.replace(/^\ufeff/, '').split('\r\n').filter(l => l !== '')
  const split = (l: string): string[] => l.split(DAT_SEPARATOR).map(c => {
    if (!c.startsWith(DAT_QUOTE) || !c.endsWith(DAT_QUOTE) || c.length < 2) throw new Error(`not a DAT cell: ${JSON.stringify(c.slice(0, 40))}`)
    return c.slice(1, -1)
  })
  const fields = split(lines[0])
  return { fields, records: lines.slice(1).map(l => { const v = split(l); return Object.fromEntries(fields.map((f, i) => [f, v[i]])) }) }
}
