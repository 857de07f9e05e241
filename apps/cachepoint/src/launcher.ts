import { spawn, type ChildProcess } from 'node:child_process'
import { openSync, closeSync, readFileSync } from 'node:fs'
import { setTimeout as sleep } from 'node:timers/promises'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { connectToDaemon, type ControlClient, type StatusInfo } from '@cachecloud/control'
import { initDataDir, type InitOptions, type InitResult } from '@cachecloud/daemon/settings'
import { DAEMON_NODE_ARGS } from './node-args.js'

export { DAEMON_NODE_ARGS }

/** The CLI entry point of this package, for spawning real daemons. */
export const CLI_PATH = fileURLToPath(new URL('./cli.js', import.meta.url))

export interface LaunchedCachePoint {
  dataDir: string
  process: ChildProcess
  client: ControlClient
  status: StatusInfo
  /** The first loopback libp2p address with the peer id, to give to `pull --from`. */
  address: string
  /** SIGTERM and wait for exit. */
  stop(): Promise<void>
  /** SIGKILL: a crash, as far as the data directory can tell. */
  kill(): Promise<void>
}

export interface LaunchOptions {
  dataDir: string
  /** Where the daemon's JSON log goes (appended). Default DATA_DIR/daemon.log. */
  logFile?: string
  logLevel?: string
  timeoutMs?: number
  /** Arguments for node itself, after DAEMON_NODE_ARGS and before the CLI (e.g. `--cpu-prof`, which NODE_OPTIONS does not accept; a later V8 flag overrides an earlier one). */
  nodeArgs?: string[]
}

/** `cachepoint init` for a node listening on loopback only. */
export async function initLoopbackNode (dataDir: string, options: InitOptions = {}): Promise<InitResult> {
  return initDataDir(dataDir, { listen: ['/ip4/127.0.0.1/tcp/0'], ...options })
}

/** The last line of a daemon's log (its one-line error when it failed to start), cut to 300 characters. */
function lastLine (logFile: string): string {
  try {
    const line = readFileSync(logFile, 'utf8').trimEnd().split('\n').at(-1) ?? ''
    return line === '' ? `nothing in ${logFile}` : `${line.slice(0, 300)} (${logFile})`
  } catch (err) {
    return `its log ${logFile} unreadable: ${(err as Error).message}`
  }
}

async function exited (child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return
  await new Promise<void>((resolve) => child.once('exit', () => { resolve() }))
}

/** Spawns `cachepoint daemon` as a real process and waits until its control API answers. */
export async function launchCachePoint (options: LaunchOptions): Promise<LaunchedCachePoint> {
  const logFile = options.logFile ?? join(options.dataDir, 'daemon.log')
  const logFd = openSync(logFile, 'a')
  const child = spawn(process.execPath, [...DAEMON_NODE_ARGS, ...options.nodeArgs ?? [], CLI_PATH, '--data-dir', options.dataDir, 'daemon', '--log-level', options.logLevel ?? 'info'], {
    stdio: ['ignore', logFd, logFd]
  })
  closeSync(logFd)
  const deadline = Date.now() + (options.timeoutMs ?? 20_000)
  let client: ControlClient | undefined
  let status: StatusInfo | undefined
  while (status === undefined) {
    if (child.exitCode !== null) throw new Error(`cachepoint daemon for ${options.dataDir} exited with code ${child.exitCode}: ${lastLine(logFile)}`)
    if (Date.now() > deadline) {
      child.kill('SIGKILL')
      throw new Error(`cachepoint daemon for ${options.dataDir} did not start in time; see its log`)
    }
    try {
      client = await connectToDaemon(options.dataDir)
      status = await client.status()
    } catch {
      await sleep(50)
    }
  }
  const s = status
  const address = `${s.addresses.find(a => a.startsWith('/ip4/127.0.0.1/')) ?? s.addresses[0]}`
  return {
    dataDir: options.dataDir,
    process: child,
    client: client as ControlClient,
    status: s,
    address: address.includes('/p2p/') ? address : `${address}/p2p/${s.peerId}`,
    async stop () { child.kill('SIGTERM'); await exited(child) },
    async kill () { child.kill('SIGKILL'); await exited(child) }
  }
}
