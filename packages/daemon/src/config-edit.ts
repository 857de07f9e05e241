import { readFile } from 'node:fs/promises'
import { z } from 'zod'
import { writeFileAtomic } from '@cachecloud/core'
import { configSchema } from './config-schema.js'
import { parseConfig, type CachePointConfig } from './config.js'
import { ConfigError, NotInitializedError } from './errors.js'

/** How a key's value is written on the command line: a string, a list of strings, a list of objects (JSON), or JSON. */
export type ConfigKeyKind = 'string' | 'strings' | 'list' | 'json'

export function configKeyKind (key: string): ConfigKeyKind {
  let node = (configSchema.shape as Record<string, z.ZodType | undefined>)[key]
  while (node instanceof z.ZodOptional) node = node.unwrap() as z.ZodType
  if (node instanceof z.ZodString || node instanceof z.ZodEnum) return 'string'
  if (node instanceof z.ZodArray) return node.element instanceof z.ZodString ? 'strings' : 'list'
  return 'json'
}

/** The config file as written (no defaults filled in), for editing. */
export async function readConfigDocument (path: string): Promise<Record<string, unknown>> {
  let text: string
  try {
    text = await readFile(path, 'utf8')
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') throw new NotInitializedError(`no CachePoint config at ${path} (create one with: cachepoint init)`)
    throw new ConfigError(`cannot read config ${path}: ${(err as Error).message}`, { cause: err })
  }
  let doc: unknown
  try {
    doc = JSON.parse(text)
  } catch (err) {
    throw new ConfigError(`config ${path}: not valid JSON (${(err as Error).message})`)
  }
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw new ConfigError(`config ${path}: must be a JSON object`)
  return doc as Record<string, unknown>
}

/**
 * Edits the config file: `edit` changes the document, which is then checked by every
 * config rule (a problem goes to `reject`, one line; the file is left as it was) and
 * written atomically. The running daemon reads it at its next start.
 */
export async function editConfigFile (path: string, edit: (doc: Record<string, unknown>) => void, reject: (why: string) => never): Promise<CachePointConfig> {
  const doc = await readConfigDocument(path)
  edit(doc)
  const text = JSON.stringify(doc, null, 2) + '\n'
  const config = parseConfig(text, path, reject)
  await writeFileAtomic(path, text)
  return config
}
