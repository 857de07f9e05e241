/**
 * What went wrong, as the user and the API's callers see it: the one place
 * where an error becomes an exit code (both CLIs) and an HTTP status (the
 * control API, the status page). Every CacheCloudError declares its kind;
 * the README's exit-code table is this table (a test compares them).
 */
export const ERROR_KINDS = {
  /** A defect or a failure nothing better describes. */
  internal: { exitCode: 1, httpStatus: 500, summary: 'unexpected failure' },
  /** Bad command-line or request input. */
  usage: { exitCode: 2, httpStatus: 400, summary: 'bad usage' },
  /** A request body not declared JSON (refused before it is read). */
  'unsupported-media-type': { exitCode: 2, httpStatus: 415, summary: 'bad usage' },
  /** A Host header that is not this server's name (DNS rebinding). */
  'wrong-host': { exitCode: 2, httpStatus: 421, summary: 'bad usage' },
  /** A state-changing request from another origin than the page's. */
  forbidden: { exitCode: 2, httpStatus: 403, summary: 'bad usage' },
  /** The daemon is not running, went away, or its data directory is not initialized or is locked. */
  daemon: { exitCode: 3, httpStatus: 503, summary: 'daemon not running or data directory not initialized/locked' },
  /** The control API token is missing or wrong. */
  unauthorized: { exitCode: 3, httpStatus: 401, summary: 'daemon not running or data directory not initialized/locked' },
  'not-found': { exitCode: 4, httpStatus: 404, summary: 'not found' },
  exists: { exitCode: 5, httpStatus: 409, summary: 'already exists' },
  /** Corrupt data, an untrusted or bad signature, a check that found damage. */
  integrity: { exitCode: 6, httpStatus: 422, summary: 'integrity or trust failure' },
  /** A peer or store that cannot be reached, or that broke its protocol. */
  network: { exitCode: 7, httpStatus: 502, summary: 'network or peer failure' },
  'disk-full': { exitCode: 8, httpStatus: 507, summary: 'disk full' },
  config: { exitCode: 9, httpStatus: 500, summary: 'invalid config' },
  paused: { exitCode: 10, httpStatus: 409, summary: 'transfers are paused' },
  'in-use': { exitCode: 11, httpStatus: 409, summary: 'in use' },
  'missing-tool': { exitCode: 12, httpStatus: 500, summary: 'a tool is not installed' }
} as const satisfies Record<string, { exitCode: number, httpStatus: number, summary: string }>

export type ErrorKind = keyof typeof ERROR_KINDS

/** The exit code of success, which no kind has. */
export const EXIT_OK = 0

export function isErrorKind (value: unknown): value is ErrorKind {
  return typeof value === 'string' && Object.hasOwn(ERROR_KINDS, value)
}

/** Node's errno codes that have a kind of their own; every other error without a kind is `internal`. */
const ERRNO_KINDS: Record<string, ErrorKind> = { ENOENT: 'not-found', ENOSPC: 'disk-full', EDQUOT: 'disk-full' }

/**
 * The kind of any thrown value: a CacheCloudError's own (also one rebuilt from
 * a control API answer), a few errno codes, else `internal`.
 */
export function kindOf (err: unknown): ErrorKind {
  if (!(err instanceof Error)) return 'internal'
  const { kind, code } = err as { kind?: unknown, code?: unknown }
  if (isErrorKind(kind)) return kind
  if (typeof code === 'string' && Object.hasOwn(ERRNO_KINDS, code)) return ERRNO_KINDS[code] as ErrorKind
  return 'internal'
}

export function exitCodeOf (kind: ErrorKind): number { return ERROR_KINDS[kind].exitCode }
export function httpStatusOf (kind: ErrorKind): number { return ERROR_KINDS[kind].httpStatus }

/** The exit code a CLI ends with for `err`. */
export function exitCodeFor (err: unknown): number { return exitCodeOf(kindOf(err)) }

/** The HTTP status an API answers `err` with. */
export function httpStatusFor (err: unknown): number { return httpStatusOf(kindOf(err)) }

/** Guards by kind, for the places that branch on what went wrong rather than on one class. */
export function isNotFound (err: unknown): boolean { return kindOf(err) === 'not-found' }
export function isPaused (err: unknown): boolean { return kindOf(err) === 'paused' }
export function isDiskFull (err: unknown): boolean { return kindOf(err) === 'disk-full' }
export function isIntegrityFailure (err: unknown): boolean { return kindOf(err) === 'integrity' }
