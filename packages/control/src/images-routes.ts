import type { ImagesApi } from './images-api.js'
import { readJson, sendJson, stream, type RouteTable } from './http.js'
import { BadRequestError } from './errors.js'
import * as validate from './validate.js'

/** The `images` subsystem's routes: versions held, import, pull, export, diff, gc, rm, prune, check. */
export function addImageRoutes (table: RouteTable, images: ImagesApi): void {
  table.set('GET /images', async (_req, res) => { sendJson(res, 200, await images.list()) })
  table.set('GET /images/diff', async (_req, res, url) => {
    const from = url.searchParams.get('from')
    const to = url.searchParams.get('to')
    if (from === null || to === null) throw new BadRequestError('diff needs ?from=NAME@VERSION&to=NAME@VERSION')
    sendJson(res, 200, await images.diff(from, to))
  })
  table.set('POST /images/import', async (req, res) => {
    const body = validate.importRequest(await readJson(req))
    await stream(res, async (onProgress) => await images.import(body, onProgress))
  })
  table.set('POST /images/pull', async (req, res) => {
    const body = validate.pullRequest(await readJson(req))
    await stream(res, async (onProgress) => await images.pull(body, onProgress))
  })
  table.set('POST /images/export', async (req, res) => {
    const body = validate.exportRequest(await readJson(req))
    await stream(res, async (onProgress) => await images.export(body, onProgress))
  })
  table.set('POST /gc', async (_req, res) => { sendJson(res, 200, await images.gc()) })
  table.set('POST /images/rm', async (req, res) => { sendJson(res, 200, await images.remove(validate.removeRequest(await readJson(req)))) })
  table.set('POST /images/prune', async (req, res) => { sendJson(res, 200, await images.prune(validate.pruneRequest(await readJson(req)))) })
  table.set('POST /check', async (req, res) => {
    const body = validate.checkRequest(await readJson(req))
    await stream(res, async (onProgress) => await images.check(body, onProgress))
  })
}
