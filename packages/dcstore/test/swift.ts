import { spawn, execFile, type ChildProcess } from 'node:child_process'
import { access, mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises'
import { connect, createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { setTimeout as sleep } from 'node:timers/promises'
import { promisify } from 'node:util'

const run = promisify(execFile)

/**
 * A real OpenStack Swift (Debian 12: swift 2.30 with its s3api middleware) in
 * an all-in-one configuration in a temp directory: one account, container
 * and object server on one device, rings of one replica built with
 * swift-ring-builder, a proxy with s3api and tempauth (whose tokens live in
 * memcached), everything on 127.0.0.1. S3 credentials: tempauth's user
 * `test:tester`, key `testing`.
 */
export interface SwiftServer {
  endpoint: string
  accessKeyId: string
  secretAccessKey: string
  stop: () => Promise<void>
}

const BINARIES = ['/usr/bin/swift-proxy-server', '/usr/bin/swift-account-server', '/usr/bin/swift-container-server', '/usr/bin/swift-object-server', '/usr/bin/swift-ring-builder', '/usr/bin/memcached', '/etc/swift/swift.conf']

/** Why Swift cannot be started here (a binary missing), or undefined when it can. */
export async function swiftMissing (): Promise<string | undefined> {
  for (const b of BINARIES) {
    try { await access(b) } catch { return `${b} not found (apt-get install swift swift-proxy swift-account swift-container swift-object memcached)` }
  }
  return undefined
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise(resolve => server.close(resolve))
  return port
}

const listening = async (port: number): Promise<boolean> => await new Promise(resolve => {
  const socket = connect(port, '127.0.0.1', () => { socket.destroy(); resolve(true) })
  socket.on('error', () => { resolve(false) })
})

const serverConf = (dir: string, name: string, port: number): string => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
devices = ${dir}/srv
mount_check = false
swift_dir = ${dir}/etc
log_level = WARNING
disable_fallocate = true

[pipeline:main]
pipeline = ${name}-server

[app:${name}-server]
use = egg:swift#${name}
`

const proxyConf = (dir: string, port: number, memcached: number): string => `[DEFAULT]
bind_ip = 127.0.0.1
bind_port = ${port}
workers = 0
swift_dir = ${dir}/etc
log_level = WARNING

[pipeline:main]
pipeline = catch_errors gatekeeper proxy-logging cache listing_formats s3api tempauth copy slo dlo proxy-logging proxy-server

[app:proxy-server]
use = egg:swift#proxy
account_autocreate = true
allow_account_management = true

[filter:catch_errors]
use = egg:swift#catch_errors
[filter:gatekeeper]
use = egg:swift#gatekeeper
[filter:proxy-logging]
use = egg:swift#proxy_logging
[filter:cache]
use = egg:swift#memcache
memcache_servers = 127.0.0.1:${memcached}
[filter:listing_formats]
use = egg:swift#listing_formats
[filter:s3api]
use = egg:swift#s3api
location = us-east-1
[filter:tempauth]
use = egg:swift#tempauth
user_test_tester = testing .admin
[filter:copy]
use = egg:swift#copy
[filter:slo]
use = egg:swift#slo
[filter:dlo]
use = egg:swift#dlo
`

/** Starts Swift (about 10 s on the 2-core machine: each server is a Python process importing eventlet). */
export async function startSwift (): Promise<SwiftServer> {
  const dir = await mkdtemp(join(tmpdir(), 'swift-'))
  await mkdir(join(dir, 'etc'))
  await mkdir(join(dir, 'srv', 'd1'), { recursive: true })
  const ports = { account: await freePort(), container: await freePort(), object: await freePort(), proxy: await freePort(), memcached: await freePort() }
  for (const ring of ['account', 'container', 'object'] as const) {
    const builder = join(dir, 'etc', `${ring}.builder`)
    await run('swift-ring-builder', [builder, 'create', '0', '1', '1'])
    await run('swift-ring-builder', [builder, 'add', `r1z1-127.0.0.1:${ports[ring]}/d1`, '1'])
    await run('swift-ring-builder', [builder, 'rebalance']).catch((err: { code?: number }) => { if (err.code !== 1) throw err }) // 1: warnings
    await writeFile(join(dir, 'etc', `${ring}-server.conf`), serverConf(dir, ring, ports[ring]))
  }
  await writeFile(join(dir, 'etc', 'proxy-server.conf'), proxyConf(dir, ports.proxy, ports.memcached))
  const children: ChildProcess[] = []
  const output: string[] = []
  const start = (cmd: string, args: string[]): void => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] })
    const keep = (b: Buffer): void => { output.push(b.toString()); if (output.length > 200) output.shift() }
    child.stdout.on('data', keep)
    child.stderr.on('data', keep)
    children.push(child)
  }
  const stop = async (): Promise<void> => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGKILL')
    await Promise.all(children.map(async c => { if (c.exitCode === null && c.signalCode === null) await new Promise(resolve => c.once('exit', resolve)) }))
    await rm(dir, { recursive: true, force: true })
  }
  start('memcached', ['-l', '127.0.0.1', '-p', String(ports.memcached), '-U', '0', '-u', 'root', '-m', '16'])
  for (const s of ['account', 'container', 'object']) start(`swift-${s}-server`, [join(dir, 'etc', `${s}-server.conf`), '-v'])
  start('swift-proxy-server', [join(dir, 'etc', 'proxy-server.conf'), '-v'])
  const endpoint = `http://127.0.0.1:${ports.proxy}`
  const deadline = Date.now() + 90_000
  for (;;) {
    const res = await fetch(`${endpoint}/auth/v1.0`, { headers: { 'X-Auth-User': 'test:tester', 'X-Auth-Key': 'testing' } }).catch(() => undefined)
    // the proxy answers auth alone: the storage servers must listen too
    if (res?.status === 200 && (await Promise.all([ports.account, ports.container, ports.object].map(listening))).every(Boolean)) break
    const dead = children.find(c => c.exitCode !== null)
    if (dead !== undefined || Date.now() > deadline) {
      await stop()
      throw new Error(`Swift did not start: ${dead !== undefined ? `${String(dead.spawnargs[0])} exited ${String(dead.exitCode)}` : 'no answer in 90 s'}: ${output.join('').slice(-2000)}`)
    }
    await sleep(250)
  }
  return { endpoint, accessKeyId: 'test:tester', secretAccessKey: 'testing', stop }
}
