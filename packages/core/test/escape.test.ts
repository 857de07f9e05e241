import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { escapeControl, escapeTerminal } from '../src/escape.js'

describe('escape for terminals', () => {
  it('shows control characters, DEL, C1 and bidi overrides as visible escapes', () => {
    assert.equal(escapeControl('win11\x1b]0;owned\x07@v1'), 'win11\\x1b]0;owned\\x07@v1')
    assert.equal(escapeControl('a\nb\tc\rd\x00\x7f\x9b'), 'a\\nb\\tc\\rd\\x00\\x7f\\x9b')
    assert.equal(escapeControl('invoice\u202egpj.exe'), 'invoice\\u202egpj.exe')
    assert.equal(escapeControl('plain-name_1.2@v3 ünïcødé 日本'), 'plain-name_1.2@v3 ünïcødé 日本', 'printable text is untouched')
  })

  it('keeps newlines in multi-line text, nothing else', () => {
    assert.equal(escapeTerminal('line 1\nline \x1b[2J2\n'), 'line 1\nline \\x1b[2J2\n')
  })
})
