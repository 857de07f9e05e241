/// <reference lib="dom" />
import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { copyFile, mkdir, readFile, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { Browser, Page } from 'playwright-core'
import { makeExt4Image, runOk, sha256File, updateImage } from '@cachecloud/fixtures'
import { createUiServer, type UiServer } from '@cachecloud/ui'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { ARTIFACTS, launchBrowser, skipWithoutBrowser } from './browser.js'
import { createTestCluster, type TestCluster } from './nodes.js'
import { DCSTORE_CLI, freePort, run } from './personal-procs.js'

/** Adds fields to a stopped node's config.json (site, WAN budget: what `cachepoint init` flags would write). */
async function configure (dataDir: string, patch: Record<string, unknown>): Promise<void> {
  const path = join(dataDir, 'config.json')
  await writeFile(path, JSON.stringify({ ...JSON.parse(await readFile(path, 'utf8')) as object, ...patch }, null, 2))
}

const attr = async (
  page: Page,
  selector: string,
  name: string
): Promise<number> => Number(await page.locator(selector).first().getAttribute(name, { timeout: 30_000 }))

describe('status page: swarm and personalization panels over real daemons (chromium)', { skip: skipWithoutBrowser }, () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let ui: UiServer
  let browser: Browser
  let page: Page
  let image: string

  before(async () => {
    cluster = await createTestCluster('ui-panels')
    image = join(cluster.dir, 'os.raw')
    // the data-center store is enrolled but never started: alice's snapshots wait for it
    const storeData = join(cluster.dir, 'store')
    const discoveryKey = (await run(DCSTORE_CLI, ['keygen', '--out', join(cluster.dir, 'discovery.key')])).trim()
    const storePeer = (await run(DCSTORE_CLI, ['--data', storeData, 'peer-id'])).trim()
    const folder = join(cluster.dir, 'alice')
    await mkdir(folder)
    await writeFile(join(folder, 'notes.txt'), 'draft of the quarterly report\n'.repeat(5000))

    const seed = await cluster.start('a', { listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`] })
    await seed.stop()
    // the data center sends to other sites at 160 Mbit/s: slow enough to watch the pull advance
    await configure(seed.dataDir, { site: 'dc', wan: { maxRate: '160mbit' } })
    a = { ...(await cluster.restart('a')), publisherKey: seed.publisherKey }
    const branch = await cluster.start('b', {
      trustedPublishers: [a.publisherKey],
      peers: [a.address],
      personalization: [{ user: 'alice', path: folder }],
      personalStore: { address: `/ip4/127.0.0.1/tcp/${await freePort()}/p2p/${storePeer}`, discoveryKey }
    })
    await branch.stop()
    await configure(branch.dataDir, { site: 'paris' })
    b = await cluster.restart('b')
    ui = createUiServer({ dataDir: b.dataDir })
    const { openUrl } = await ui.start()
    browser = await launchBrowser()
    page = await (await browser.newContext({ viewport: { width: 1100, height: 900 } })).newPage()
    await page.goto(openUrl)
  })

  after(async () => {
    await browser?.close()
    await ui?.stop()
    await cluster?.close()
  })

  it('shows a personal snapshot taken offline as waiting for the data center', async () => {
    await b.client.personalSnapshot('alice')
    await page.waitForSelector('#personal li[data-user="alice"][data-pending="1"]', { timeout: 30_000 })
    assert.match(await page.locator('#personal li[data-user="alice"]').innerText(), /alice 1 snapshot, last snapshot .*; 1 snapshot \([\d.]+ \w?i?B\) waiting for the data center/)
    assert.match(await page.locator('#personal-summary').innerText(), /1 folder versioned here; 1 waiting for the data center/)
    assert.match(await page.locator('#state').innerText(), /1 snapshot waiting for the data center/)
  })

  it('follows a swarm pull of a subscribed image: progress, WAN bytes from the data center by peer and site', async () => {
    await makeExt4Image({ path: image, sizeMiB: 512, seed: 'ui-panels', fill: 0.5 })
    await b.client.subscribe('os', 'auto')
    await a.client.importImage({ file: image, name: 'os', version: 'v1' }, () => {})
    await a.client.publish('os@v1')

    const pull = '#swarm-pulls .swarm-pull[data-ref="os@v1"]'
    await page.waitForSelector(`${pull}[data-state="pulling"]`, { timeout: 30_000 })
    await page.waitForFunction((sel) => Number(document.querySelector(`${sel} .figures`)?.getAttribute('data-done') ?? 0) > 0, pull, { timeout: 30_000 })
    const first = await attr(page, `${pull} .figures`, 'data-done')
    await page.waitForFunction(({ sel, min }) => Number(document.querySelector(`${sel} .figures`)?.getAttribute('data-done') ?? 0) > min, { sel: pull, min: first }, { timeout: 30_000 })
    assert.match(await page.locator('#state').innerText(), /Syncing \d+% \(os@v1\)/, 'a swarm pull (no job) counts as syncing')
    assert.match(await page.locator(`${pull} .figures`).innerText(), /\d+% · \d+ of \d+ blocks · .* · [\d.]+ \w?i?B\/s · ETA/)
    assert.match(await page.locator('#images tr[data-ref="os@v1"] td.progress .figures').innerText(), /\d+% · .* ETA/, 'the image table shows the swarm pull too')
    assert.match(await page.locator('#swarm-summary').innerText(), /site paris, subscribed to os \(pulls new versions\)/)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-panels-1-swarm.png'), fullPage: true })

    // Pause stops the swarm pull too (it is no job): the counter and the store stand still
    await page.click('#pause')
    await page.waitForSelector(`${pull}[data-state="paused"]`, { timeout: 30_000 })
    await page.waitForSelector('#state[data-state="paused"]')
    assert.match(await page.locator(`${pull} .figures`).innerText(), /paused: continues on resume/)
    const paused = await attr(page, `${pull} .figures`, 'data-done')
    const stored = (await b.client.status()).store
    await sleep(1500)
    assert.equal(await attr(page, `${pull} .figures`, 'data-done'), paused, 'the swarm pull stands still')
    assert.equal((await b.client.status()).store.physicalBytes, stored.physicalBytes, 'no block stored while paused')
    await page.click('#resume')
    await page.waitForSelector(`${pull}[data-state="pulling"]`, { timeout: 30_000 })
    assert.ok(await attr(page, `${pull} .figures`, 'data-done') >= paused, 'the resumed pull continues the count')

    await page.waitForSelector(`${pull}[data-state="complete"]`, { timeout: 180_000 })
    const wan = await attr(page, `${pull} .lan-wan`, 'data-wan')
    const swarm = (await b.client.status()).swarm.pulls.find(p => p.ref === 'os@v1')
    assert.ok(swarm !== undefined && swarm.wanBytes > 0)
    assert.equal(wan, swarm.wanBytes, 'the page shows the daemon\'s WAN bytes')
    assert.equal(await attr(page, `${pull} .lan-wan`, 'data-lan'), 0, 'no peer of site paris held anything')
    const peer = page.locator(`${pull} li[data-peer="${a.status.peerId}"]`)
    assert.match(await peer.innerText(), /WAN [\d.]+ \w?i?B from peer …\w{8}\s+site dc/)
    assert.equal(await page.locator('#images tr[data-ref="os@v1"]').getAttribute('data-state'), 'complete')
    await page.screenshot({ path: join(ARTIFACTS, 'ui-panels-2-complete.png'), fullPage: true })
  })

  it('shows a disk export of a version not pulled here: reads fetched on demand, with their latency', async () => {
    await b.client.unsubscribe('os') // v2 is to be fetched only where it is read
    const v2 = join(cluster.dir, 'os-v2.raw')
    await copyFile(image, v2)
    await updateImage(v2, { seed: 'ui-panels-v2', changedFiles: 3, newFiles: 2, newBytes: 2 * 1024 * 1024 })
    await a.client.importImage({ file: v2, name: 'os', version: 'v2' }, () => {})
    const served = await b.client.serve({ ref: 'os@v2', port: 0, pull: false })
    const out = join(cluster.dir, 'read-through-export.raw')
    await runOk('qemu-img', ['convert', '-f', 'raw', '-O', 'raw', served.uri, out])
    assert.equal(await sha256File(out), await sha256File(v2), 'the export reads as the image')
    const item = `#exports li[data-export="${served.id}"]`
    await page.waitForFunction((sel) => Number(document.querySelector(sel)?.getAttribute('data-on-demand') ?? 0) > 0, item, { timeout: 30_000 })
    const text = await page.locator(item).innerText()
    assert.match(text, /os@v2 at nbd:\/\/127\.0\.0\.1:\d+ \(read-only\)/)
    assert.match(text, /\d+ reads, [1-9]\d* on demand \(p50 \d+ ms, p95 \d+ ms\), [\d.]+ \w?i?B fetched from peers/)
    assert.match(text, /no background pull: only what is read is fetched/)
    assert.equal(Number(await page.locator(item).getAttribute('data-fetched')), (await b.client.exports())[0].reads.fetchedBytes)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-panels-3-export.png'), fullPage: true })
  })
})
