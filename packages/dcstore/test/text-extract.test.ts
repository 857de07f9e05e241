import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { extractText, kindOf } from '../src/index.js'
import { docxOf, odfOf, pdfOf, pptxOf, xlsxOf } from './text-fixtures.js'

describe('text extraction of each type (real files written from bytes)', () => {
  const words = (t: string): string => t.replace(/\s+/g, ' ').trim()
  it('plain text, PDF, docx, xlsx, pptx, odt', async () => {
    assert.equal(words((await extractText('a.txt', Buffer.from('Project Phoenix\nlaunch'))).text), 'Project Phoenix launch')
    assert.equal(words((await extractText('scan.pdf', pdfOf(['Project Phoenix (budget)', 'second line']))).text), 'Project Phoenix (budget) second line')
    assert.equal(words((await extractText('memo.docx', docxOf(['Project Phoenix memo', 'Fish & chips <ok>']))).text), 'Project Phoenix memo Fish & chips <ok>')
    assert.equal(words((await extractText('q3.xlsx', xlsxOf(['Phoenix revenue', 'Acme']))).text), 'Phoenix revenue Acme 0 1 42')
    assert.equal(words((await extractText('deck.pptx', pptxOf(['Phoenix kickoff', 'Next steps']))).text), 'Phoenix kickoff Next steps')
    assert.equal(words((await extractText('minutes.odt', odfOf(['Board minutes on Phoenix']))).text), 'Board minutes on Phoenix')
    assert.equal((await extractText('README', Buffer.from('no extension, still text'))).kind, 'text')
  })
  it('says why not: binary of no known type, a damaged package, a damaged PDF', async () => {
    assert.equal(kindOf('photo.jpg', Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2])), undefined)
    await assert.rejects(extractText('photo.jpg', Buffer.from([0xff, 0xd8, 0xff, 0, 1, 2])), { status: 'unsupported', message: 'no text extractor for .jpg files' })
    await assert.rejects(extractText('broken.docx', Buffer.from('PK\x03\x04 not really a zip')), { status: 'failed', message: /^not a readable Office Open XML package/ })
    await assert.rejects(extractText('broken.pdf', Buffer.from('%PDF-1.4 garbage')), { status: 'failed', message: /^not a readable PDF/ })
  })
})
