import type { Command } from 'commander'
import { isDeepStrictEqual } from 'node:util'
import { output } from '../context.js'
import { ConfigValueNotFoundError, UsageError } from '../errors.js'
import { configPathOf, type GlobalOptions } from '../paths.js'
import { daemonRunning } from '../running.js'

type Daemon = typeof import('@cachecloud/daemon/settings')

async function daemonSettings (): Promise<Daemon> { return import('@cachecloud/daemon/settings') }

function checkKey (d: Daemon, key: string): void {
  if ((d.CONFIG_KEYS as readonly string[]).includes(key)) return
  const near = d.nearest(key, d.CONFIG_KEYS)
  throw new UsageError(`unknown config key ${key}${near === undefined ? '' : ` (did you mean ${near}?)`}; keys: ${d.CONFIG_KEYS.join(', ')}`)
}

function parseJson (key: string, text: string): unknown {
  try {
    return JSON.parse(text)
  } catch {
    throw new UsageError(`the value of ${key} must be JSON here, e.g. 4001, true or {"maxRate":"20mbit"}; got ${text}`)
  }
}

/** A command-line VALUE as the key's type: strings as typed, lists of strings from one string (or a JSON list), the rest JSON. */
function valueFor (d: Daemon, key: string, text: string): unknown {
  const kind = d.configKeyKind(key)
  if (kind === 'string') return text
  if (kind === 'strings') return text.trimStart().startsWith('[') ? parseJson(key, text) : [text]
  return parseJson(key, text)
}

/** An element of a list key, as `add` and `remove` take it. */
function elementFor (d: Daemon, key: string, text: string): unknown {
  const kind = d.configKeyKind(key)
  if (kind === 'strings') return text
  if (kind === 'list') return parseJson(key, text)
  throw new UsageError(`${key} is not a list: use cachepoint config set ${key} VALUE`)
}

function show (value: unknown): string {
  if (value === undefined) return '(not set)'
  if (typeof value === 'string') return value
  if (Array.isArray(value) && value.every(v => typeof v === 'string')) return value.join('\n')
  return JSON.stringify(value, null, 2)
}

export function registerConfig (program: Command, globals: () => GlobalOptions): void {
  const config = program.command('config')
    .description('read and change config.json, checked by the same rules as at start; changes take effect at the next daemon start')

  config.command('get')
    .description('print a key\'s value in effect (defaults filled in), or the whole config')
    .argument('[key]', 'config key, e.g. listen')
    .action(async (key: string | undefined) => {
      const g = globals()
      const d = await daemonSettings()
      if (key !== undefined) checkKey(d, key)
      const effective = await d.loadConfig(await configPathOf(g)) as unknown as Record<string, unknown>
      const value = key === undefined ? effective : effective[key]
      output(g, value ?? null, () => show(value))
    })

  const change = async (g: GlobalOptions, key: string, what: string, edit: (doc: Record<string, unknown>) => void): Promise<void> => {
    const d = await daemonSettings()
    const path = await configPathOf(g)
    const updated = await d.editConfigFile(path, edit, why => { throw new UsageError(`${what}: ${why}`) }) as unknown as Record<string, unknown>
    const running = await daemonRunning(updated.dataDir as string)
    const when = running === undefined
      ? 'it takes effect when the daemon starts'
      : `the daemon (pid ${running}) reads it at its next start: restart it (kill -TERM ${running}, then cachepoint daemon)`
    output(g, { path, key, value: updated[key] ?? null, restartNeeded: running !== undefined }, () => `${what}: written to ${path}; ${when}`)
  }

  config.command('set')
    .description('set a key (a list key takes one value, or a JSON list; objects and numbers are JSON)')
    .argument('<key>', 'config key')
    .argument('<value>', 'value, e.g. /ip4/127.0.0.1/tcp/4001, 1048576, true, {"maxRate":"20mbit"}')
    .action(async (key: string, text: string) => {
      const d = await daemonSettings()
      checkKey(d, key)
      await change(globals(), key, `config set ${key}`, doc => { doc[key] = valueFor(d, key, text) })
    })

  config.command('add')
    .description('add a value to a list key (listen, peers, trustedPublishers, allowPeers, bootstrap; subscriptions and personalization as JSON)')
    .argument('<key>', 'list key')
    .argument('<value>', 'value to add')
    .action(async (key: string, text: string) => {
      const d = await daemonSettings()
      checkKey(d, key)
      const element = elementFor(d, key, text)
      await change(globals(), key, `config add ${key}`, (doc) => {
        const list = Array.isArray(doc[key]) ? doc[key] as unknown[] : []
        if (!list.some(v => isDeepStrictEqual(v, element))) list.push(element)
        doc[key] = list
      })
    })

  config.command('remove')
    .description('remove a value from a list key, or the key itself (back to its default) when no value is given')
    .argument('<key>', 'config key')
    .argument('[value]', 'value to remove from the list')
    .action(async (key: string, text: string | undefined) => {
      const d = await daemonSettings()
      // a key unknown to this version can still be removed from the file (that is how a typo is fixed)
      if (text !== undefined) checkKey(d, key)
      const element = text === undefined ? undefined : elementFor(d, key, text)
      await change(globals(), key, `config remove ${key}`, (doc) => {
        if (text === undefined) {
          Reflect.deleteProperty(doc, key)
          return
        }
        const list = Array.isArray(doc[key]) ? doc[key] as unknown[] : []
        const kept = list.filter(v => !isDeepStrictEqual(v, element))
        if (kept.length === list.length) throw new ConfigValueNotFoundError(`config remove ${key}: ${text} is not in ${key}`)
        doc[key] = kept
      })
    })
}
