/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { createServer } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { makeExt4Image } from '@cachecloud/fixtures'
import { createUiServer, type UiServer } from '@cachecloud/ui'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { ARTIFACTS, launchBrowser, skipWithoutBrowser } from './browser.js'
import { createTestCluster, type TestCluster } from './nodes.js'

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  const { port } = server.address() as { port: number }
  await new Promise<void>((resolve) => server.close(() => { resolve() }))
  return port
}

const done = async (page: Page): Promise<number> => Number(await page.locator('[data-ref="big@v1"] .figures').getAttribute('data-done', { timeout: 30_000 }))
const waitDoneAbove = async (page: Page, bytes: number, timeout = 60_000): Promise<void> => {
  await page.waitForFunction((min) => Number(document.querySelector('[data-ref="big@v1"] .figures')?.getAttribute('data-done') ?? -1) > min, bytes, { timeout })
}
const waitState = async (page: Page, state: string, timeout = 60_000): Promise<void> => {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout })
}
/** Tabs through the page until `id` has the focus (at most 12 presses). */
async function tabTo (page: Page, id: string): Promise<void> {
  for (let i = 0; i < 12; i++) {
    await page.keyboard.press('Tab')
    if (await page.evaluate(() => document.activeElement?.id) === id) return
  }
  assert.fail(`#${id} cannot be reached with Tab`)
}
/** Every progress bar has its numbers beside it; nothing spins without one. */
async function assertNoBareSpinner (page: Page): Promise<void> {
  const bare = await page.evaluate(() => [...document.querySelectorAll('progress')].filter(p =>
    !p.hasAttribute('value') || !/\d+%/.test(p.parentElement?.querySelector('.figures')?.textContent ?? '')).length +
    document.querySelectorAll('[class*="spinner"], [aria-busy="true"]').length)
  assert.equal(bare, 0)
}

describe('status page in a real browser (chromium) over a real pull', { skip: skipWithoutBrowser }, () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let ui: UiServer
  let browser: Browser
  let page: Page
  let openUrl: string

  before(async () => {
    cluster = await createTestCluster('ui')
    const imageFile = join(cluster.dir, 'big.raw')
    await makeExt4Image({ path: imageFile, sizeMiB: 1024, seed: 'ui', fill: 0.6 })
    // a fixed port, so that B's configured peer address holds when A is started again
    a = await cluster.start('a', { listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`] })
    await a.client.importImage({ file: imageFile, name: 'big', version: 'v1' }, () => {})
    b = await cluster.start('b', { trustedPublishers: [a.publisherKey], peers: [a.address] })
    ui = createUiServer({ dataDir: b.dataDir })
    openUrl = (await ui.start()).openUrl
    browser = await launchBrowser()
    page = await (await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 1 })).newPage()
  })

  after(async () => {
    await browser?.close()
    await ui?.stop()
    await cluster?.close()
  })

  it('signs in with the key in the fragment, then drops it; the API is closed without the session', async () => {
    await page.goto(openUrl)
    await waitState(page, 'up-to-date', 20_000)
    assert.equal(new URL(page.url()).hash, '', 'the launch key leaves the address bar')
    assert.match(await page.locator('#peers-summary').innerText(), /1 of 1 configured peers reachable \(online\)/)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-1-idle.png'), fullPage: true })
    const { url } = { url: new URL(openUrl).origin }
    assert.equal((await fetch(`${url}/v1/status`)).status, 401, 'no session cookie, no API')
  })

  it('shows a real pull advancing; Tab+Enter on Pause stops the byte counter', async () => {
    void b.client.pull({ ref: 'big@v1' }, () => {}).catch(() => {}) // ends ERR_PULL_PAUSED
    await waitDoneAbove(page, 0)
    const first = await done(page)
    await waitDoneAbove(page, first)
    await waitState(page, 'syncing')
    assert.match(await page.locator('#state').innerText(), /Syncing \d+%/)
    assert.match(await page.locator('[data-ref="big@v1"] .figures').innerText(), /\d+% · [\d.]+ \w?i?B of [\d.]+ \w?i?B · [\d.]+ \w?i?B\/s · ETA/)
    await assertNoBareSpinner(page)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-2-syncing.png'), fullPage: true })

    await tabTo(page, 'pause')
    await page.keyboard.press('Enter')
    await waitState(page, 'paused')
    // the pull's job reports paused once the pull has stopped (blocks in flight land first)
    await page.waitForSelector('[data-ref="big@v1"] .badge.paused')
    const paused = await done(page)
    const store = (await b.client.status()).store.physicalBytes
    await sleep(1100)
    assert.equal(await done(page), paused, 'the page\'s byte counter stands still')
    assert.equal((await b.client.status()).store.physicalBytes, store, 'no block stored while paused')
    assert.match(await page.locator('[data-ref="big@v1"] .figures').innerText(), /paused/)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-3-paused.png'), fullPage: true })
  })

  it('Tab+Space on Resume continues from where it stopped', async () => {
    const paused = await done(page)
    await tabTo(page, 'resume')
    await page.keyboard.press(' ')
    await waitState(page, 'syncing')
    assert.ok(await done(page) >= paused, 'the bar does not start over')
    await waitDoneAbove(page, paused)
    await page.click('#pause') // pause again mid-pull, to take its peer away next
    await waitState(page, 'paused')
  })

  it('shows offline with its pending count when its peer is stopped, and catches up with Sync now', async () => {
    await a.stop()
    await page.click('#resume')
    await waitState(page, 'offline')
    assert.match(await page.locator('#state').innerText(), /Offline: no peer reachable, 1 version pending/)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-4-offline.png'), fullPage: true })

    const before = await done(page).catch(() => 0)
    a = { ...(await cluster.restart('a')), publisherKey: a.publisherKey }
    await tabTo(page, 'sync')
    await page.keyboard.press('Enter')
    await waitState(page, 'up-to-date', 120_000)
    assert.ok(before >= 0)
    assert.match(await page.locator('#notices').innerText(), /big@v1 is ready/)
    assert.equal(await page.locator('[data-ref="big@v1"]').getAttribute('data-state'), 'complete')
    await page.screenshot({ path: join(ARTIFACTS, 'ui-5-complete-1x.png'), fullPage: true })
  })

  it('reads at 2x: nothing overflows, text stays legible', async () => {
    const hiDpi = await (await browser.newContext({ viewport: { width: 1100, height: 760 }, deviceScaleFactor: 2 })).newPage()
    await hiDpi.goto(openUrl)
    await waitState(hiDpi, 'up-to-date', 20_000)
    const layout = await hiDpi.evaluate(() => ({
      overflow: document.documentElement.scrollWidth - window.innerWidth,
      smallest: Math.min(...[...document.querySelectorAll('body *')].filter(e => e.childNodes.length > 0 && [...e.childNodes].some(n => n.nodeType === 3 && (n.textContent ?? '').trim() !== '')).map(e => parseFloat(getComputedStyle(e).fontSize)))
    }))
    assert.ok(layout.overflow <= 0, `no horizontal scrolling (${layout.overflow}px over)`)
    assert.ok(layout.smallest >= 13, `smallest text ${layout.smallest}px`)
    await hiDpi.screenshot({ path: join(ARTIFACTS, 'ui-6-complete-2x.png'), fullPage: true })
    const narrow = await (await browser.newContext({ viewport: { width: 420, height: 800 }, deviceScaleFactor: 2 })).newPage()
    await narrow.goto(openUrl)
    await waitState(narrow, 'up-to-date', 20_000)
    assert.ok(await narrow.evaluate(() => document.documentElement.scrollWidth <= window.innerWidth), 'a narrow window does not scroll sideways')
    await narrow.screenshot({ path: join(ARTIFACTS, 'ui-7-narrow-2x.png'), fullPage: true })
  })
})
