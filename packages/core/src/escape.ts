// Text from peers, stores and files shown on a terminal: control characters
// (C0, DEL, C1: escape sequences that move the cursor, recolour, retitle the
// window, or erase what was printed) and the bidirectional overrides that
// reorder what is shown, written as visible escapes instead. Imports nothing,
// like units.ts, so the status page could take it alone.

const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g
const UNSAFE_BUT_NEWLINE = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069]/g

function visible (c: string): string {
  const code = c.charCodeAt(0)
  if (c === '\n') return '\\n'
  if (c === '\t') return '\\t'
  if (c === '\r') return '\\r'
  return code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`
}

/** One line for a terminal: every control character (newlines too) as a visible escape, e.g. `\x1b`. */
export function escapeControl (text: string): string {
  return text.replace(UNSAFE, visible)
}

/** Text of several lines for a terminal: like escapeControl, but newlines stay. */
export function escapeTerminal (text: string): string {
  return text.replace(UNSAFE_BUT_NEWLINE, visible)
}
