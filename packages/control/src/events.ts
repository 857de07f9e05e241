import type { IncomingMessage, ServerResponse } from 'node:http'
import type { ChangeSource, StatusInfo } from './api.js'
import { EVENTS_INTERVAL_MS, EVENTS_KEEPALIVE_MS, EVENTS_RETRY_MS } from './constants.js'

/** One server-sent event, as parsed by `parseEventStream`. */
export interface ServerSentEvent {
  event: string
  data: string
  id?: string
}

/** The event names of GET /v1/events (docs/formats/control-api.md). */
export const STATUS_EVENT = 'status'

/**
 * GET /v1/events: a `status` event with the whole StatusInfo at once, then
 * one whenever it may have changed (at most one per EVENTS_INTERVAL_MS; a
 * burst of changes yields one status at the end of the interval), and a
 * comment line every EVENTS_KEEPALIVE_MS. Snapshots rather than deltas: a
 * client that reconnects, or missed one, is whole again with the next one.
 */
export async function serveEvents (request: IncomingMessage, response: ServerResponse, changes: ChangeSource): Promise<void> {
  response.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-store', connection: 'keep-alive', 'x-accel-buffering': 'no' })
  response.write(`retry: ${EVENTS_RETRY_MS}\n\n`)
  let seq = 0
  let lastSent = 0
  let timer: NodeJS.Timeout | undefined
  let sending = false
  let again = false
  const send = async (): Promise<void> => {
    if (sending) { again = true; return }
    sending = true
    try {
      do {
        again = false
        lastSent = Date.now()
        const status: StatusInfo = await changes.currentStatus()
        if (response.destroyed) return
        response.write(`id: ${++seq}\nevent: ${STATUS_EVENT}\ndata: ${JSON.stringify(status)}\n\n`)
      } while (again)
    } catch {
      // the daemon is stopping; the client reconnects and gets a fresh status
    } finally {
      sending = false
    }
  }
  const onChange = (): void => {
    if (timer !== undefined) return
    timer = setTimeout(() => { timer = undefined; void send() }, Math.max(0, lastSent + EVENTS_INTERVAL_MS - Date.now()))
  }
  const unsubscribe = changes.watch(onChange)
  const keepAlive = setInterval(() => { if (!response.destroyed) response.write(': keep-alive\n\n') }, EVENTS_KEEPALIVE_MS)
  await send()
  await new Promise<void>((resolve) => {
    request.once('close', resolve)
    response.once('close', resolve)
  })
  unsubscribe()
  clearInterval(keepAlive)
  clearTimeout(timer)
}

/** Parses a text/event-stream body into events (comments and `retry:` lines are dropped). */
export async function * parseEventStream (body: AsyncIterable<Uint8Array>): AsyncGenerator<ServerSentEvent> {
  const decoder = new TextDecoder()
  let buffered = ''
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true }).replace(/\r\n?/g, '\n')
    let end: number
    while ((end = buffered.indexOf('\n\n')) >= 0) {
      const block = buffered.slice(0, end)
      buffered = buffered.slice(end + 2)
      const event: ServerSentEvent = { event: 'message', data: '' }
      const data: string[] = []
      for (const line of block.split('\n')) {
        if (line === '' || line.startsWith(':')) continue
        const colon = line.indexOf(':')
        const field = colon < 0 ? line : line.slice(0, colon)
        const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '')
        if (field === 'event') event.event = value
        else if (field === 'data') data.push(value)
        else if (field === 'id') event.id = value
      }
      if (data.length === 0) continue
      event.data = data.join('\n')
      yield event
    }
  }
}
