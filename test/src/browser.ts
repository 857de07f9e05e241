import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { resolve } from 'node:path'
import { chromium, type Browser } from 'playwright-core'

// The real browser of the UI tests: Debian's chromium, driven by playwright-core.

export const CHROMIUM = '/usr/bin/chromium'
const ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic']
/** Screenshots of the tests, for people to look at. */
export const ARTIFACTS = resolve(process.cwd(), 'test-artifacts')
/** CI runs as root and installs chromium (.ci/run): there a missing browser is a failure, not a skip. */
export const skipWithoutBrowser = !existsSync(CHROMIUM) && process.getuid?.() !== 0 ? `${CHROMIUM} missing (apt-get install chromium, as root)` : false

export async function launchBrowser (): Promise<Browser> {
  await mkdir(ARTIFACTS, { recursive: true })
  return await chromium.launch({ executablePath: CHROMIUM, args: ARGS, headless: true })
}
