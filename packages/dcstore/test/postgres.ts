import { execFile } from 'node:child_process'
import { chown, mkdtemp, readdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir, userInfo } from 'node:os'
import { join } from 'node:path'
import { promisify } from 'node:util'

const run = promisify(execFile)

/** Debian's PostgreSQL server binaries (`apt-get install postgresql`), or undefined. */
export async function findPostgresBin (): Promise<string | undefined> {
  const root = '/usr/lib/postgresql'
  const versions = await readdir(root).catch(() => [])
  const latest = versions.sort((a, b) => Number(b) - Number(a))[0]
  return latest === undefined ? undefined : join(root, latest, 'bin')
}

async function freePort (): Promise<number> {
  const server = createServer()
  await new Promise<void>(resolve => server.listen(0, '127.0.0.1', resolve))
  const port = (server.address() as { port: number }).port
  await new Promise(resolve => server.close(resolve))
  return port
}

export interface PrivateCluster {
  port: number
  stop: () => Promise<void>
}

/**
 * A throw-away PostgreSQL cluster in a temp directory, trust auth on
 * 127.0.0.1 (FACTS.md): initdb and pg_ctl run as `postgres` when we are root.
 */
export async function startPrivateCluster (bin: string): Promise<PrivateCluster> {
  const dir = await mkdtemp(join(tmpdir(), 'pg-'))
  const asRoot = userInfo().uid === 0
  const exec = async (cmd: string, args: string[]): Promise<void> => {
    if (asRoot) {
      const quoted = [cmd, ...args].map(a => `'${a.replaceAll("'", "'\\''")}'`).join(' ')
      await run('su', ['postgres', '-s', '/bin/sh', '-c', quoted])
    } else {
      await run(cmd, args)
    }
  }
  if (asRoot) {
    const { stdout } = await run('id', ['-u', 'postgres'])
    const { stdout: gid } = await run('id', ['-g', 'postgres'])
    await chown(dir, Number(stdout.trim()), Number(gid.trim()))
  }
  const port = await freePort()
  const data = join(dir, 'data')
  await exec(join(bin, 'initdb'), ['-D', data, '-A', 'trust', '-U', 'postgres', '--no-sync'])
  await exec(join(bin, 'pg_ctl'), ['-D', data, '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`, '-l', join(dir, 'log'), '-w', 'start'])
  return {
    port,
    stop: async () => {
      await exec(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', 'stop']).catch(() => {})
      await rm(dir, { recursive: true, force: true })
    }
  }
}
