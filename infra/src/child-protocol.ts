/**
 * The line protocol between the harness (cluster.ts) and each child it runs
 * in a namespace (a swarm node, a relay to a real daemon, an observer): the
 * child writes JSON lines to stdout (events, and one answer per command) and
 * reads commands, one JSON line each, from stdin until the harness is gone.
 */
import { createInterface } from 'node:readline'

/** One JSON line to the harness. */
export function out (msg: Record<string, unknown>): void { process.stdout.write(JSON.stringify(msg) + '\n') }

/** Answers each command line with `handle`'s result (or its error and code) until stdin closes, then exits. */
export async function serveCommands<C extends { id: number | string }> (handle: (c: C) => Promise<unknown>): Promise<never> {
  for await (const line of createInterface({ input: process.stdin })) {
    if (line.trim() === '') continue
    const c = JSON.parse(line) as C
    handle(c).then(result => { out({ id: c.id, ok: true, result }) }, (err: Error & { code?: string }) => {
      out({ id: c.id, ok: false, error: err.message, code: err.code })
    })
  }
  // stdin closed: the harness is gone
  process.exit(0)
}

/** Runs a child's main; a failure is one `fatal` line and exit 1. */
export function runChild (main: () => Promise<unknown>): void {
  main().catch((err: Error) => { out({ event: 'fatal', error: err.message }); process.exit(1) })
}
