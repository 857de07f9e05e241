/// <reference lib="dom" />
import '@cachecloud/core/polyfill'
import assert from 'node:assert/strict'
import { existsSync } from 'node:fs'
import { createServer, request as httpRequest, type Server } from 'node:http'
import type { AddressInfo } from 'node:net'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { after, before, describe, it } from 'node:test'
import type { Browser, BrowserContext, Page } from 'playwright-core'
import { API_PREFIX, readEndpoint, type ControlEndpoint } from '@cachecloud/control'
import { makeExt4Image } from '@cachecloud/fixtures'
import { createUiServer, type UiServer } from '@cachecloud/ui'
import type { LaunchedCachePoint } from 'cachepoint/launcher'
import { launchBrowser, skipWithoutBrowser } from './browser.js'
import { createTestCluster, type TestCluster } from './nodes.js'

// Issue 12: a page served from another port of 127.0.0.1 is the same *site*
// as the UI server, so the browser sends the page session's cookie with its
// form posts and no-cors fetches. Nothing it sends may change the daemon.

/** The attacker's page: every way a page may POST to another origin without a CORS preflight, then `window.done = true`. */
function attackerPage (ui: string, victimFile: string): string {
  const exportBody = JSON.stringify({ ref: 'small@v1', file: victimFile, overwrite: true })
  const serveBody = JSON.stringify({ ref: 'small@v1', port: 0, host: '0.0.0.0' })
  // a text/plain form sends NAME=VALUE: a name holding the JSON up to a padding string makes the body parse as JSON
  const formName = (body: string): string => body.slice(0, -1) + ',"pad":"'
  return `<!doctype html><html><body>
<iframe name="sink"></iframe>
<form id="f1" method="post" enctype="text/plain" target="sink" action="${ui}/v1/images/export"><input name='${formName(exportBody)}' value='"}'></form>
<form id="f2" method="post" enctype="text/plain" target="sink" action="${ui}/v1/exports"><input name='${formName(serveBody)}' value='"}'></form>
<form id="f3" method="post" target="sink" action="${ui}/v1/pause"></form>
<script>
const sink = (url, init) => fetch(url, { method: 'POST', mode: 'no-cors', credentials: 'include', ...init }).catch(() => {})
async function attack () {
  await sink('${ui}/v1/images/export', { headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(exportBody)} })
  await sink('${ui}/v1/exports', { headers: { 'content-type': 'text/plain' }, body: ${JSON.stringify(serveBody)} })
  await sink('${ui}/v1/images/export', { body: new Blob([${JSON.stringify(exportBody)}]) })
  await sink('${ui}/v1/pause', {})
  // a CORS request with a JSON body needs a preflight, which the server does not grant
  await fetch('${ui}/v1/exports', { method: 'POST', credentials: 'include', headers: { 'content-type': 'application/json' }, body: ${JSON.stringify(serveBody)} }).catch(() => {})
  for (const id of ['f1', 'f2', 'f3']) {
    const loaded = new Promise(resolve => document.querySelector('iframe').addEventListener('load', resolve, { once: true }))
    document.getElementById(id).submit()
    await Promise.race([loaded, new Promise(resolve => setTimeout(resolve, 3000))])
  }
  window.done = true
}
attack()
</script></body></html>`
}

async function listen (server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve))
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`
}

/** A raw HTTP request (so that Host, Origin and Content-Type are exactly what the test says). */
async function raw (url: string, options: { method?: string, headers?: Record<string, string>, body?: string }): Promise<{ status: number, body: string }> {
  return await new Promise((resolve, reject) => {
    const req = httpRequest(url, { method: options.method ?? 'GET', headers: options.headers }, (res) => {
      let body = ''
      res.on('data', (chunk: Buffer) => { body += chunk.toString() })
      res.on('end', () => { resolve({ status: res.statusCode ?? 0, body }) })
    })
    req.on('error', reject)
    req.end(options.body)
  })
}

describe('status page: another local page cannot drive the daemon (CSRF, DNS rebinding)', { skip: skipWithoutBrowser }, () => {
  let cluster: TestCluster
  let node: LaunchedCachePoint
  let endpoint: ControlEndpoint
  let ui: UiServer
  let uiUrl: string
  let openUrl: string
  let attacker: Server
  let attackerUrl: string
  let browser: Browser
  let context: BrowserContext
  let page: Page
  let victimFile: string

  before(async () => {
    cluster = await createTestCluster('csrf')
    victimFile = join(cluster.dir, 'victim-bashrc')
    const imageFile = join(cluster.dir, 'small.raw')
    await makeExt4Image({ path: imageFile, sizeMiB: 8, seed: 'csrf' })
    node = await cluster.start('a')
    await node.client.importImage({ file: imageFile, name: 'small', version: 'v1' }, () => {})
    endpoint = await readEndpoint(node.dataDir)
    ui = createUiServer({ dataDir: node.dataDir })
    ;({ url: uiUrl, openUrl } = await ui.start())
    attacker = createServer((_req, res) => {
      res.writeHead(200, { 'content-type': 'text/html' })
      res.end(attackerPage(uiUrl, victimFile))
    })
    attackerUrl = await listen(attacker)
    browser = await launchBrowser()
    context = await browser.newContext()
    page = await context.newPage()
  })

  after(async () => {
    await browser?.close()
    await ui?.stop()
    await new Promise<void>((resolve) => { if (attacker === undefined) resolve(); else attacker.close(() => { resolve() }) })
    await cluster?.close()
  })

  it('an attacker page on another 127.0.0.1 port posts export, serve and pause with the victim\'s session: the daemon does none of it', async () => {
    await page.goto(openUrl)
    await page.waitForSelector('#state[data-state="up-to-date"]', { timeout: 30_000 })
    assert.equal((await context.cookies(uiUrl)).length, 1, 'the victim has a page session')

    const evil = await context.newPage()
    await evil.goto(attackerUrl)
    await evil.waitForFunction(() => (window as unknown as { done?: boolean }).done === true, undefined, { timeout: 30_000 })
    await sleep(1000) // anything that got through has had time to start

    assert.equal(existsSync(victimFile), false, 'no export was written to the victim\'s file')
    assert.deepEqual(await node.client.exports(), [], 'no NBD export was started (let alone on 0.0.0.0)')
    const status = await node.client.status()
    assert.equal(status.paused, false, 'the daemon was not paused')
    assert.equal(status.jobs.filter(j => j.kind === 'export').length, 0, 'no export job ran')
  })

  it('refuses, at the UI server, what the page does not send: foreign or missing Origin, cross-site fetches, non-JSON bodies, other routes, other Host names', async () => {
    const [session] = await context.cookies(uiUrl)
    assert.ok(session !== undefined)
    const cookie = `${session.name}=${session.value}`
    const host = new URL(uiUrl).host
    const post = async (path: string, headers: Record<string, string>, body?: string): Promise<{ status: number, body: string }> =>
      await raw(`${uiUrl}${path}`, { method: 'POST', headers: { cookie, ...headers }, body })

    assert.equal((await post('/v1/pause', {})).status, 403, 'no Origin')
    assert.equal((await post('/v1/pause', { origin: 'http://127.0.0.1:1' })).status, 403, 'another port\'s origin')
    assert.equal((await post('/v1/pause', { origin: uiUrl, 'sec-fetch-site': 'same-site' })).status, 403, 'same-site is not same-origin')
    assert.equal((await post('/v1/pause', { origin: uiUrl, 'content-type': 'text/plain' }, '{}')).status, 415, 'a text/plain body')
    const outside = await post('/v1/images/export', { origin: uiUrl, 'content-type': 'application/json' }, JSON.stringify({ ref: 'small@v1', file: victimFile }))
    assert.equal(outside.status, 404, 'the export route is not proxied')
    assert.match(outside.body, /ERR_UI_NO_SUCH_ROUTE/)
    assert.equal((await post('/v1/exports', { origin: uiUrl, 'content-type': 'application/json' }, '{}')).status, 404, 'NBD exports are not proxied')
    assert.equal((await raw(`${uiUrl}${API_PREFIX}/images`, { headers: { cookie } })).status, 404, 'nor any read the page does not make')
    const rebound = await raw(`${uiUrl}/v1/status`, { headers: { cookie, host: `evil.example:${new URL(uiUrl).port}` } })
    assert.equal(rebound.status, 421, 'a rebound DNS name is refused')
    assert.equal((await raw(`${uiUrl}/`, { headers: { host: 'evil.example' } })).status, 421, 'the page itself is not served under another name')
    assert.equal((await raw(`${uiUrl}/v1/status`, { headers: { cookie, host } })).status, 200, 'the page\'s own read goes through')
    assert.equal(existsSync(victimFile), false)
    assert.equal((await node.client.status()).paused, false)
  })

  it('the daemon itself refuses bodies that are not application/json (415) and Host names that are not loopback (421)', async () => {
    const authorization = `Bearer ${endpoint.token}`
    const asText = await raw(`${endpoint.url}${API_PREFIX}/images/export`, {
      method: 'POST', headers: { authorization, 'content-type': 'text/plain' }, body: JSON.stringify({ ref: 'small@v1', file: victimFile, overwrite: true })
    })
    assert.equal(asText.status, 415)
    assert.match(asText.body, /ERR_UNSUPPORTED_MEDIA_TYPE/)
    const asForm = await raw(`${endpoint.url}${API_PREFIX}/exports`, {
      method: 'POST', headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' }, body: 'ref=small@v1&port=0&host=0.0.0.0'
    })
    assert.equal(asForm.status, 415)
    const noType = await raw(`${endpoint.url}${API_PREFIX}/pause`, { method: 'POST', headers: { authorization }, body: '{}' })
    assert.equal(noType.status, 415, 'a body without a type')
    const rebound = await raw(`${endpoint.url}${API_PREFIX}/status`, { headers: { authorization, host: `evil.example:${new URL(endpoint.url).port}` } })
    assert.equal(rebound.status, 421)
    assert.equal(existsSync(victimFile), false)
    assert.deepEqual(await node.client.exports(), [])
    assert.equal((await node.client.status()).paused, false)
  })

  it('the real page still pauses and resumes through its buttons', async () => {
    await page.bringToFront()
    await page.click('#pause')
    await page.waitForSelector('#state[data-state="paused"]', { timeout: 20_000 })
    assert.equal((await node.client.status()).paused, true)
    await page.click('#resume')
    await page.waitForSelector('#state[data-state="up-to-date"]', { timeout: 20_000 })
    assert.equal((await node.client.status()).paused, false)
  })
})
