import type { PersonalApi } from './personal-api.js'
import { readJson, sendJson, type RouteTable } from './http.js'
import { BadRequestError } from './errors.js'
import * as validate from './validate.js'

/** The `personal` subsystem's routes: folders' status, a user's log, snapshot now, restore. */
export function addPersonalRoutes (table: RouteTable, personal: PersonalApi): void {
  table.set('GET /personal', async (_req, res) => { sendJson(res, 200, await personal.status()) })
  table.set('GET /personal/log', async (_req, res, url) => {
    const user = url.searchParams.get('user')
    if (user === null || user === '') throw new BadRequestError('log needs ?user=USER')
    sendJson(res, 200, await personal.log(user))
  })
  table.set('POST /personal/snapshot', async (req, res) => {
    sendJson(res, 200, await personal.snapshot(validate.personalSnapshotRequest(await readJson(req)).user))
  })
  table.set('POST /personal/restore', async (req, res) => {
    sendJson(res, 200, await personal.restore(validate.personalRestoreRequest(await readJson(req))))
  })
}
