import { randomBytes } from 'node:crypto'
import { readFile, rm } from 'node:fs/promises'
import { processAlive, writeFileAtomic } from '@cachecloud/core'
import { join } from 'node:path'
import { CONTROL_FILE, TOKEN_FILE } from './constants.js'
import { DaemonUnreachableError } from './errors.js'

/** How a client reaches a running daemon: written by the daemon into its data directory. */
export interface ControlEndpoint {
  url: string
  pid: number
  token: string
}

/** The token in the data directory, created (random, mode 0600) when missing. */
export async function loadOrCreateToken (dataDir: string): Promise<string> {
  const path = join(dataDir, TOKEN_FILE)
  try {
    const token = (await readFile(path, 'utf8')).trim()
    if (token.length >= 32) return token
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err
  }
  const token = randomBytes(32).toString('base64url')
  await writeFileAtomic(path, token + '\n', { mode: 0o600 })
  return token
}

export async function publishEndpoint (dataDir: string, endpoint: Omit<ControlEndpoint, 'token'>): Promise<void> {
  await writeFileAtomic(join(dataDir, CONTROL_FILE), JSON.stringify(endpoint) + '\n')
}

export async function withdrawEndpoint (dataDir: string): Promise<void> {
  await rm(join(dataDir, CONTROL_FILE), { force: true })
}

/** Reads the endpoint of the daemon serving `dataDir`, or explains in one line why there is none. */
export async function readEndpoint (dataDir: string): Promise<ControlEndpoint> {
  let text: string
  try {
    text = await readFile(join(dataDir, CONTROL_FILE), 'utf8')
  } catch {
    throw new DaemonUnreachableError(`no CachePoint daemon is running for ${dataDir} (start one with: cachepoint daemon)`)
  }
  const parsed = JSON.parse(text) as Omit<ControlEndpoint, 'token'>
  if (!processAlive(parsed.pid)) {
    throw new DaemonUnreachableError(`the CachePoint daemon for ${dataDir} (pid ${parsed.pid}) is not running (start it with: cachepoint daemon)`)
  }
  const token = (await readFile(join(dataDir, TOKEN_FILE), 'utf8')).trim()
  return { ...parsed, token }
}
