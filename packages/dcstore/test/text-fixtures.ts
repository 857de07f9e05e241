// Real files of each type the text index reads, written from bytes: a PDF (one page, Helvetica text), OOXML and OpenDocument packages (zip of XML parts).
import { strToU8, zipSync } from 'fflate'

/** A one-page PDF showing each line, with a correct xref table. */
export function pdfOf (lines: string[]): Uint8Array {
  const esc = (t: string): string => t.replace(/[\\()]/g, c => '\\' + c)
  const stream = 'BT /F1 12 Tf 72 720 Td 14 TL ' + lines.map(l => `(${esc(l)}) Tj T*`).join(' ') + ' ET'
  const objs = [
    '<< /Type /Catalog /Pages 2 0 R >>', '<< /Type /Pages /Kids [3 0 R] /Count 1 >>',
    '<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R /Resources << /Font << /F1 5 0 R >> >> >>',
    `<< /Length ${stream.length} >>\nstream\n${stream}\nendstream`, '<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>'
  ]
  let out = '%PDF-1.4\n'
  const offsets: number[] = []
  objs.forEach((o, i) => { offsets.push(out.length); out += `${i + 1} 0 obj\n${o}\nendobj\n` })
  const xref = out.length
  out += `xref\n0 ${objs.length + 1}\n0000000000 65535 f \n` + offsets.map(o => `${String(o).padStart(10, '0')} 00000 n \n`).join('')
  out += `trailer\n<< /Size ${objs.length + 1} /Root 1 0 R >>\nstartxref\n${xref}\n%%EOF\n`
  return Buffer.from(out, 'latin1')
}

const XML = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
const x = (t: string): string => t.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')
const zip = (parts: Record<string, string>): Uint8Array => zipSync(Object.fromEntries(Object.entries(parts).map(([k, v]) => [k, strToU8(v)])))

/** A Word document: one paragraph per line, the first word of each split over two runs (as Word does). */
export function docxOf (paragraphs: string[]): Uint8Array {
  const body = paragraphs.map(p => `<w:p><w:r><w:t>${x(p.slice(0, 2))}</w:t></w:r><w:r><w:rPr><w:b/></w:rPr><w:t xml:space="preserve">${x(p.slice(2))}</w:t></w:r></w:p>`).join('')
  return zip({
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="xml" ContentType="application/xml"/><Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/></Types>`,
    'word/document.xml': `${XML}<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body>${body}</w:body></w:document>`
  })
}

/** A workbook: shared strings in sheet 1's cells. */
export function xlsxOf (cells: string[]): Uint8Array {
  return zip({
    '[Content_Types].xml': `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`,
    'xl/sharedStrings.xml': `${XML}<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" count="${cells.length}">${cells.map(c => `<si><t>${x(c)}</t></si>`).join('')}</sst>`,
    'xl/worksheets/sheet1.xml': `${XML}<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData><row r="1">${cells.map((_c, i) => `<c r="A${i + 1}" t="s"><v>${i}</v></c>`).join('')}<c r="B1"><v>42</v></c></row></sheetData></worksheet>`
  })
}

/** A presentation: one slide per text. */
export function pptxOf (slides: string[]): Uint8Array {
  return zip(Object.fromEntries([
    ['[Content_Types].xml', `${XML}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"/>`],
    ...slides.map((t, i) => [`ppt/slides/slide${i + 1}.xml`, `${XML}<p:sld xmlns:p="http://schemas.openxmlformats.org/presentationml/2006/main" xmlns:a="http://schemas.openxmlformats.org/drawingml/2006/main"><p:cSld><p:spTree><p:sp><p:txBody><a:p><a:r><a:t>${x(t)}</a:t></a:r></a:p></p:txBody></p:sp></p:spTree></p:cSld></p:sld>`])
  ]))
}

/** An OpenDocument text (odt), or with `kind` a spreadsheet or presentation's content.xml. */
export function odfOf (paragraphs: string[], mimetype = 'application/vnd.oasis.opendocument.text'): Uint8Array {
  return zip({
    mimetype,
    'content.xml': `${XML}<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0" xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0"><office:body><office:text>${paragraphs.map(p => `<text:p>${x(p).replace(/ /, '<text:s/>')}</text:p>`).join('')}</office:text></office:body></office:document-content>`
  })
}
