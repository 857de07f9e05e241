import type { SwarmApi } from './swarm-api.js'
import { query, readJson, sendJson, type RouteTable } from './http.js'
import * as validate from './validate.js'

/** The `swarm` subsystem's routes: publish, subscriptions, plan, swarm status, rollout. */
export function addSwarmRoutes (table: RouteTable, swarm: SwarmApi): void {
  table.set('POST /images/publish', async (req, res) => { sendJson(res, 200, await swarm.publish(validate.field(await readJson(req), 'ref'))) })
  table.set('POST /subscriptions', async (req, res) => {
    const { name, policy } = validate.subscribeRequest(await readJson(req))
    sendJson(res, 200, await swarm.subscribe(name, policy))
  })
  table.set('POST /subscriptions/remove', async (req, res) => { sendJson(res, 200, await swarm.unsubscribe(validate.field(await readJson(req), 'name'))) })
  table.set('GET /images/plan', async (_req, res, url) => { sendJson(res, 200, await swarm.plan(query(url, 'ref', 'plan needs ?ref=NAME@VERSION'))) })
  table.set('GET /swarm', async (_req, res) => { sendJson(res, 200, await swarm.status()) })
  table.set('GET /images/rollout', async (_req, res, url) => { sendJson(res, 200, await swarm.rollout(url.searchParams.get('ref') ?? undefined)) })
}
