import { connect, createServer, type Server, type Socket } from 'node:net'

/**
 * A TCP relay on 127.0.0.1 in front of a real server that resets the first
 * `failFirst` connections (all with Infinity): a service that drops
 * connections, for testing retries against the real thing behind it.
 */
export async function startFlakyProxy (target: { host: string, port: number }, failFirst: number): Promise<{
  port: number,
  connections: () => number,
  stop: () => Promise<void>
}> {
  let seen = 0
  const sockets = new Set<Socket>()
  const server: Server = createServer(client => {
    sockets.add(client)
    client.on('close', () => sockets.delete(client))
    if (seen++ < failFirst) { client.resetAndDestroy(); return }
    const upstream = connect(target.port, target.host)
    sockets.add(upstream)
    upstream.on('close', () => sockets.delete(upstream))
    client.pipe(upstream).pipe(client)
    client.on('error', () => upstream.destroy())
    upstream.on('error', () => client.destroy())
  })
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  return {
    port: (server.address() as { port: number }).port,
    connections: () => seen,
    stop: async () => { for (const s of sockets) s.destroy(); await new Promise(resolve => server.close(resolve)) }
  }
}
