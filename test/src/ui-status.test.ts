/// <reference lib="dom" />
/// <reference lib="dom.iterable" />
import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { mkdir, writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { makeExt4Image } from '@cachecloud/fixtures'
import { createUiServer, type UiServer } from '@cachecloud/ui'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { ARTIFACTS, launchBrowser, skipWithoutBrowser } from './browser.js'
import { createTestCluster, type TestCluster } from './nodes.js'
import { DCSTORE_CLI, freePort, launch, run, type Proc } from './personal-procs.js'
import { cli, cliJson } from './cli-run.js'
import type { RolloutInfo } from '@cachecloud/control'

// Issue 13 item 13: what a new administrator hit on the status page. Real daemons, a real
// dcstore, real Chromium: a failed pull that could not be dismissed, the store listed as a
// CachePoint, long ids overflowing, "not running" for a page opened without its key, no favicon.

const waitState = async (page: Page, state: string, timeout = 30_000): Promise<void> => {
  await page.waitForSelector(`#state[data-state="${state}"]`, { timeout })
}

describe('status page: failures, peers, sign-in and favicon (chromium, real daemons and store)', { skip: skipWithoutBrowser }, () => {
  let cluster: TestCluster
  let a: LaunchedCachePoint & { publisherKey: string }
  let b: LaunchedCachePoint
  let store: Proc
  let storePeer: string
  let ui: UiServer
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let openUrl: string
  let image: string

  before(async () => {
    cluster = await createTestCluster('ui-status')
    image = join(cluster.dir, 'os.raw')
    await makeExt4Image({ path: image, sizeMiB: 32, seed: 'ui-status', fill: 0.4 })
    const keyFile = join(cluster.dir, 'discovery.key')
    const discoveryKey = (await run(DCSTORE_CLI, ['keygen', '--out', keyFile])).trim()
    const userKey = join(cluster.dir, 'alice.key')
    await run(DCSTORE_CLI, ['keygen', '--out', userKey])
    const storeData = join(cluster.dir, 'store')
    storePeer = (await run(DCSTORE_CLI, ['--data', storeData, 'peer-id'])).trim()
    const storeListen = `/ip4/127.0.0.1/tcp/${await freePort()}`
    store = launch(DCSTORE_CLI, ['--data', storeData, '--discovery-key', keyFile, 'serve', '--listen', storeListen])
    await store.waitFor(e => e.peerId !== undefined)
    const folder = join(cluster.dir, 'alice')
    await mkdir(folder)
    await writeFile(join(folder, 'notes.txt'), 'minutes of the meeting\n'.repeat(100))

    a = await cluster.start('a', { listen: [`/ip4/127.0.0.1/tcp/${await freePort()}`] })
    b = await cluster.start('b', {
      trustedPublishers: [a.publisherKey],
      peers: [a.address],
      personalization: [{ user: 'alice', path: folder, keyFile: userKey }],
      personalStore: { address: `${storeListen}/p2p/${storePeer}`, discoveryKey }
    })
    await run(DCSTORE_CLI, ['--data', storeData, 'enroll', b.status.peerId, '--user', 'alice'])
    await b.client.personalSnapshot('alice') // B connects to the store: identify tells what it serves

    ui = createUiServer({ dataDir: b.dataDir })
    openUrl = (await ui.start()).openUrl
    browser = await launchBrowser()
    context = await browser.newContext({ viewport: { width: 1100, height: 800 } })
    page = await context.newPage()
  })

  after(async () => {
    await browser?.close()
    await ui?.stop()
    await cluster?.close()
    if (store !== undefined) { store.child.kill('SIGTERM'); await store.exited }
  })

  it('opened without its key, says the page is not signed in and how to open it, not that the CachePoint is down', async () => {
    const bare = await context.newPage()
    await bare.goto(new URL(openUrl).origin + '/')
    await waitState(bare, 'signed-out')
    const state = await bare.locator('#state').innerText()
    assert.doesNotMatch(state, /not running/i, state)
    assert.match(state, /Not signed in: the URL had no key/)
    const banner = await bare.locator('#signin').innerText()
    assert.match(banner, /run cachepoint ui on this machine and open the whole URL it prints/, banner)
    await bare.screenshot({ path: join(ARTIFACTS, 'ui-status-1-signed-out.png'), fullPage: true })

    // a key from an earlier run of cachepoint ui (another server's key) is refused, and said so
    await bare.goto(new URL(openUrl).origin + '/#key=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA')
    await bare.reload()
    await waitState(bare, 'signed-out')
    assert.match(await bare.locator('#state').innerText(), /Not signed in: the key in the URL was refused/)
    await bare.close()
  })

  it('serves a favicon: loading the page asks for nothing that is not there', async () => {
    const missing: string[] = []
    page.on('response', (r) => { if (r.status() >= 400) missing.push(`${r.status()} ${r.url()}`) })
    await page.goto(openUrl)
    await waitState(page, 'up-to-date')
    const icon = await page.evaluate(async () => { const r = await fetch('/favicon.ico'); return { status: r.status, type: r.headers.get('content-type'), body: await r.text() } })
    assert.equal(icon.status, 200)
    assert.equal(icon.type, 'image/svg+xml')
    assert.match(icon.body, /^<svg /)
    assert.equal(await page.locator('link[rel="icon"]').getAttribute('href'), '/favicon.svg')
    assert.equal((await page.evaluate(async () => (await fetch('/favicon.svg')).status)), 200)
    assert.deepEqual(missing, [])
  })

  it('shows the data-center store as the store, and CachePoints as CachePoints', async () => {
    const storeItem = page.locator(`#peers > li[data-peer="${storePeer}"]`)
    await storeItem.waitFor({ timeout: 30_000 })
    await page.waitForSelector(`#peers > li[data-peer="${storePeer}"][data-role="store"]`, { timeout: 30_000 })
    assert.match(await storeItem.innerText(), /^data-center store/)
    const seed = page.locator(`#peers > li[data-peer="${a.status.peerId}"]`)
    assert.equal(await seed.getAttribute('data-role'), 'cachepoint')
    assert.match(await seed.innerText(), /^CachePoint/)
    const peers = await b.client.peers()
    assert.equal(peers.find(p => p.peerId === storePeer)?.role, 'store', 'the API says so too')
    assert.equal(peers.find(p => p.peerId === a.status.peerId)?.role, 'cachepoint')
    const listed = await cli(b.dataDir, 'peers')
    assert.match(listed.stdout, new RegExp(`^${storePeer}\\s+store\\s+yes\\s+yes`, 'm'), listed.stdout)
    assert.match(listed.stdout, new RegExp(`^${a.status.peerId}\\s+cachepoint\\s+yes\\s+yes`, 'm'))
  })

  it('keeps long peer ids and addresses inside their cells in a narrow window', async () => {
    const narrow = await (await browser.newContext({ viewport: { width: 360, height: 900 } })).newPage()
    await narrow.goto(openUrl)
    await waitState(narrow, 'up-to-date')
    await narrow.waitForSelector('#peers > li[data-role="store"]', { timeout: 30_000 })
    const layout = await narrow.evaluate(() => {
      const over: string[] = []
      for (const e of document.querySelectorAll<HTMLElement>('#peers *, #peer-id, #swarm-summary, #images *')) {
        const box = e.getBoundingClientRect()
        const cell = e.closest('section')?.getBoundingClientRect()
        if (cell !== undefined && box.width > 0 && box.right > cell.right + 0.5) over.push(`${e.tagName}.${e.className}: ${Math.round(box.right - cell.right)}px past its section`)
        const cut = getComputedStyle(e).textOverflow === 'ellipsis'
        if (!cut && e.scrollWidth > e.clientWidth + 1 && getComputedStyle(e).display !== 'inline') over.push(`${e.tagName}.${e.className}: content ${e.scrollWidth - e.clientWidth}px wider than its box`)
      }
      return { over, page: document.documentElement.scrollWidth - window.innerWidth }
    })
    await narrow.screenshot({ path: join(ARTIFACTS, 'ui-status-2-narrow-peers.png'), fullPage: true })
    assert.deepEqual(layout.over, [])
    assert.ok(layout.page <= 0, `the page scrolls sideways by ${layout.page}px`)
    // a cut id keeps the whole id in its title
    const id = narrow.locator(`#peers > li[data-peer="${a.status.peerId}"] .peer-id`)
    assert.equal(await id.getAttribute('title'), a.status.peerId)
    await narrow.context().close()
  })

  it('a failed pull can be dismissed for good; a later success of its ref clears a failure by itself', async () => {
    await assert.rejects(b.client.pull({ ref: 'ghost@1' }, () => {}))
    await waitState(page, 'error')
    const failure = page.locator('#failure')
    await failure.waitFor({ state: 'visible' })
    assert.match(await failure.innerText(), /Pull of ghost@1 failed/)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-status-3-failure.png'), fullPage: true })
    await page.click('#failure button')
    await waitState(page, 'up-to-date')
    assert.equal(await failure.isHidden(), true)
    await page.reload()
    await waitState(page, 'up-to-date')
    assert.equal(await failure.isHidden(), true, 'a dismissed failure stays dismissed after a reload')

    // os@v1 is not on A yet: the pull fails; once A has it, the next pull succeeds and the failure goes
    await assert.rejects(b.client.pull({ ref: 'os@v1' }, () => {}))
    await waitState(page, 'error')
    assert.match(await failure.innerText(), /Pull of os@v1 failed/)
    await a.client.importImage({ file: image, name: 'os', version: 'v1' }, () => {})
    await b.client.pull({ ref: 'os@v1' }, () => {})
    await waitState(page, 'up-to-date')
    assert.equal(await failure.isHidden(), true)
    await page.screenshot({ path: join(ARTIFACTS, 'ui-status-4-superseded.png'), fullPage: true })
  })

  it('rollout (issue 14): the publisher sees, from the nodes\' reports, who holds its version: `image rollout` and a panel', async () => {
    const notYet = await cliJson<RolloutInfo>(a.dataDir, 'image', 'rollout', 'os@v2')
    // A knows itself at once. B is there too if A was already collecting: A's first report tick, 0-5 s
    // after its start, collects the images A published, and os@v1 was imported in the test before
    const states = new Map(notYet.sites.flatMap(s => s.nodes).map(n => [n.peer, n.state]))
    assert.equal(states.get(a.status.peerId), 'not-started', 'A holds no os@v2')
    assert.ok([undefined, 'not-started'].includes(states.get(b.status.peerId)), `B: ${String(states.get(b.status.peerId))}`)
    assert.deepEqual({ ...notYet.totals, notStarted: 0 }, { complete: 0, pulling: 0, notStarted: 0, offline: 0 }, JSON.stringify(notYet.totals))
    await a.client.publish('os@v1') // A follows its version's rollout; B reports to it at once
    let r: RolloutInfo | undefined
    const deadline = Date.now() + 20_000
    while (Date.now() < deadline && (r = await cliJson<RolloutInfo>(a.dataDir, 'image', 'rollout', 'os@v1')).totals.complete < 2) await new Promise(resolve => setTimeout(resolve, 300))
    assert.deepEqual(r?.totals, { complete: 2, pulling: 0, notStarted: 0, offline: 0 }, JSON.stringify(r))
    assert.deepEqual(r?.sites.map(s => s.site), [''])
    assert.deepEqual(new Set(r?.sites[0].nodes.map(n => n.peer)), new Set([a.status.peerId, b.status.peerId]))
    const text = await cli(a.dataDir, 'image', 'rollout', 'os@v1')
    assert.equal(text.code, 0, text.stderr)
    assert.match(text.stdout, /^os@v1: 2 of 2 nodes complete, 0 pulling, 0 not started, 0 offline \(reports every 60 s\)/)
    assert.match(text.stdout, /SITE\s+COMPLETE\s+PULLING\s+NOT STARTED\s+OFFLINE\n\(no site\)\s+2\s+0\s+0\s+0/)

    const publisherUi = createUiServer({ dataDir: a.dataDir })
    try {
      const p = await context.newPage()
      await p.goto((await publisherUi.start()).openUrl)
      await p.waitForSelector('#rollout-section:not([hidden]) .rollout[data-ref="os@v1"][data-complete="2"]', { timeout: 30_000 })
      assert.match(await p.locator('.rollout[data-ref="os@v1"]').innerText(), /os@v1: 2 of 2 nodes complete/)
      assert.equal(await p.locator('.rollout tr[data-site=""]').getAttribute('data-complete'), '2')
      await p.screenshot({ path: join(ARTIFACTS, 'ui-status-5-rollout.png'), fullPage: true })
      await p.close()
    } finally {
      await publisherUi.stop()
    }
    assert.equal(await page.locator('#rollout-section').isHidden(), true, 'a node that published nothing shows no rollout panel')
  })
})
