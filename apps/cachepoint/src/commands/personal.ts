import { join, resolve } from 'node:path'
import type { Command } from 'commander'
import type { ControlClient, PersonalStatusInfo } from '@cachecloud/control'
import { daemonClient, output } from '../context.js'
import { UsageError } from '../errors.js'
import { count, formatBytes, table } from '../format.js'
import { configPathOf, type GlobalOptions } from '../paths.js'
import { daemonRunning } from '../running.js'

/** The user a command is about: --user, else the only configured one. */
async function userOf (client: ControlClient, user: string | undefined): Promise<string> {
  if (user !== undefined) return user
  const users = (await client.personalStatus()).map(s => s.user)
  if (users.length === 1) return users[0]
  throw new UsageError(users.length === 0 ? 'this CachePoint versions no personal folder (config "personalization")' : `name the user with --user (${users.join(', ')})`)
}

function statusLines (list: PersonalStatusInfo[]): string {
  if (list.length === 0) return 'no personal folders (config "personalization")'
  const lines = table(['USER', 'FOLDER', 'SNAPSHOTS', 'LAST', 'PENDING', 'ERROR'], list.map(s => [
    s.user, s.folder, String(s.snapshots), s.lastSnapshot ?? 'never',
    s.pendingSnapshots === 0 ? 'none' : `${s.pendingSnapshots} (${formatBytes(s.pendingBytes)})`, s.lastError ?? ''
  ]))
  // conflict copies need the user's attention: name them
  const conflicts = list.flatMap(s => (s.conflicts ?? []).map(c => `conflict copy in ${s.user}'s folder: ${c}`))
  return [lines, ...conflicts].join('\n')
}

/** `personal status|log|snapshot|restore`: users' folders versioned on this node and replicated to the store. */
export function registerPersonal (program: Command, globals: () => GlobalOptions): void {
  const personal = program.command('personal').description('personal folders: snapshots taken here (offline too) and replicated to the data-center store')

  personal.command('status')
    .description('each user\'s folder: snapshots, last one, and what is not yet at the store')
    .action(async () => {
      const g = globals()
      const list = await (await daemonClient(g)).personalStatus()
      output(g, list, () => statusLines(list))
    })

  personal.command('log')
    .description('snapshots of a user\'s folder taken on this node, oldest first')
    .option('--user <user>', 'user (default: the only one configured)')
    .action(async (o: { user?: string }) => {
      const g = globals()
      const client = await daemonClient(g)
      const log = await client.personalLog(await userOf(client, o.user))
      output(g, log, () => log.length === 0
        ? 'no snapshots yet'
        : table(['TIME', 'SNAPSHOT', 'FILES', 'SIZE', 'NEW', 'AT STORE'], log.map(s => [
          s.time, s.cid, String(s.files), formatBytes(s.bytes), formatBytes(s.newBytes), s.replicated ? 'yes' : 'pending'
        ])))
    })

  personal.command('snapshot')
    .description('snapshot a user\'s folder now (works offline), then send pending snapshots to the store if it is reachable')
    .option('--user <user>', 'user (default: the only one configured)')
    .action(async (o: { user?: string }) => {
      const g = globals()
      const client = await daemonClient(g)
      const r = await client.personalSnapshot(await userOf(client, o.user))
      output(g, r, () => [
        `${r.created ? 'snapshot' : 'unchanged since'} ${r.cid} (${r.time}): ${count(r.files, 'file')}, ${formatBytes(r.bytes)}, ${formatBytes(r.newBytes)} new`,
        r.replicateError === undefined ? `at the store: ${r.replicated ? 'yes' : 'pending'}` : `kept here, not yet at the store: ${r.replicateError}`,
        ...(r.merged === undefined ? [] : [`from the user's other machines: ${r.merged.applied} changes${r.merged.conflicts.length === 0 ? '' : `, conflict copies: ${r.merged.conflicts.join(', ')}`}`])
      ].join('\n'))
    })

  personal.command('restore')
    .description('restore a file or directory (default: the whole folder) from the last snapshot, or the last one at or before --at')
    .argument('[path]', 'path inside the folder')
    .option('--user <user>', 'user (default: the only one configured)')
    .option('--at <time>', 'a time such as 2026-11-20T12:00:00Z')
    .option('--to <dir>', 'write into this directory instead of the folder itself')
    .option('--from-store', 'restore from the user\'s latest snapshot at the data-center store (any of the user\'s machines), e.g. on a new machine')
    .action(async (path: string | undefined, o: { user?: string, at?: string, to?: string, fromStore?: boolean }) => {
      const g = globals()
      if (o.at !== undefined && Number.isNaN(Date.parse(o.at))) throw new UsageError(`--at must be a time such as 2026-11-20T12:00:00Z, got ${JSON.stringify(o.at)}`)
      const client = await daemonClient(g)
      const r = await client.personalRestore({
        user: await userOf(client, o.user),
        ...(path === undefined ? {} : { path }),
        ...(o.at === undefined ? {} : { at: new Date(o.at).toISOString() }),
        ...(o.to === undefined ? {} : { to: resolve(o.to) }),
        ...(o.fromStore === true ? { fromStore: true } : {})
      })
      output(g, r, () => `restored ${count(r.files, 'file')} (${formatBytes(r.bytes)}) from snapshot ${r.snapshot.cid} of ${r.snapshot.time}${o.fromStore === true ? ' at the store' : ''}`)
    })

  personal.command('adopt-key')
    .description('make a folder first versioned without the user\'s key pair use it (the keyFile now in its config), keeping its history; run with the daemon stopped')
    .option('--user <user>', 'user (default: the only one configured)')
    .action(async (o: { user?: string }) => {
      const g = globals()
      const { loadConfig, DataDirLockedError, PERSONAL_DIR } = await import('@cachecloud/daemon/settings')
      const { adoptUserKeyPair } = await import('@cachecloud/personal')
      const config = await loadConfig(await configPathOf(g))
      const folders = config.personalization ?? []
      const entry = o.user === undefined ? (folders.length === 1 ? folders[0] : undefined) : folders.find(f => f.user === o.user)
      if (entry === undefined) {
        throw new UsageError(o.user !== undefined ? `no personal folder for user ${o.user} in the config ("personalization")` : folders.length === 0 ? 'this CachePoint versions no personal folder (config "personalization")' : `name the user with --user (${folders.map(f => f.user).join(', ')})`)
      }
      if (entry.keyFile === undefined) throw new UsageError(`set personalization[].keyFile for ${entry.user} to the user's key file first (cachepoint config, or edit config.json)`)
      const pid = await daemonRunning(config.dataDir)
      if (pid !== undefined) throw new DataDirLockedError(`the daemon (pid ${pid}) is running: stop it first (SIGTERM: kill ${pid}), then adopt the key and start it again`)
      const changed = await adoptUserKeyPair(join(config.dataDir, PERSONAL_DIR, entry.user), entry.keyFile, entry.user)
      const result = { user: entry.user, adopted: changed }
      output(g, result, () => changed
        ? `${entry.user}'s folder now uses the user's key pair; its earlier snapshots stay restorable here and the next snapshot continues them (every file is read once more)`
        : `${entry.user}'s folder already uses the user's key pair: nothing to do`)
    })
}
