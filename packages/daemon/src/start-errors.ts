import { ControlPortInUseError, ListenAddressInUseError, ListenFailedError } from './errors.js'

/**
 * libp2p's listen failure, one line naming the address: libp2p throws a multi-line
 * UnsupportedListenAddressesError with the socket error's stack under each address.
 */
export function listenError (err: unknown): unknown {
  if (!(err instanceof Error) || err.name !== 'UnsupportedListenAddressesError') return err
  const failures = [...err.message.matchAll(/^\s+(\/\S+): (?:Error: )?(.*)$/gm)].map(m => ({ addr: m[1], why: m[2].trim() }))
  const first = failures[0]
  if (first === undefined) return new ListenFailedError(`cannot listen: ${err.message.split('\n')[0]}`, { cause: err })
  const others = failures.length > 1 ? ` (and ${failures.length - 1} more)` : ''
  if (/EADDRINUSE/.test(first.why)) {
    return new ListenAddressInUseError(`listen address ${first.addr} is already in use${others} (another CachePoint on this host? change "listen" in config.json)`, { cause: err })
  }
  return new ListenFailedError(`cannot listen on ${first.addr}${others}: ${first.why.replace(/^listen /, '')} (check "listen" in config.json)`, { cause: err })
}

/** The control server's listen failure, one line naming the port. */
export function controlListenError (err: unknown, port: number): unknown {
  if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') return err
  return new ControlPortInUseError(`control port 127.0.0.1:${port} is already in use (another CachePoint on this host? set "controlPort" in config.json to a free port, or 0 to let the OS choose)`, { cause: err })
}
