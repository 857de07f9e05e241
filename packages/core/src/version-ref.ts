import { InvalidVersionRefError } from './errors.js'

/** An image version by name: `NAME@VERSION`. */
export interface VersionRef {
  name: string
  version: string
}

const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/

/** Validates an image name or version label (also used as a file name on disk). */
export function assertValidLabel (kind: 'image name' | 'version', label: string): void {
  if (!NAME_PATTERN.test(label) || label === '.' || label === '..') {
    throw new InvalidVersionRefError(`invalid ${kind} ${JSON.stringify(label)}: use 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit`)
  }
}

/** Parses `NAME@VERSION`. */
export function parseVersionRef (text: string): VersionRef {
  const at = text.lastIndexOf('@')
  if (at <= 0 || at === text.length - 1) {
    throw new InvalidVersionRefError(`expected NAME@VERSION, got ${JSON.stringify(text)}`)
  }
  const ref = { name: text.slice(0, at), version: text.slice(at + 1) }
  assertValidLabel('image name', ref.name)
  assertValidLabel('version', ref.version)
  return ref
}

export function formatVersionRef (ref: VersionRef): string {
  return `${ref.name}@${ref.version}`
}
