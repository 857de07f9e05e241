/** Prefix of every route; bumped on an incompatible change of the API. */
export const API_PREFIX = '/v1'
/** Where the daemon publishes how to reach it, inside the data directory. */
export const CONTROL_FILE = 'control.json'
/** The bearer token, inside the data directory, mode 0600. */
export const TOKEN_FILE = 'control.token'
/** Largest request body accepted (requests are small JSON documents). */
export const MAX_REQUEST_BYTES = 1024 * 1024
/** Minimum interval between two progress lines of one streamed operation. */
export const PROGRESS_INTERVAL_MS = 100
/** Minimum interval between two status snapshots on one event stream (GET /v1/events). */
export const EVENTS_INTERVAL_MS = 250
/** A comment line is sent on an idle event stream this often, so proxies and clients see it alive. */
export const EVENTS_KEEPALIVE_MS = 15_000
/** Reconnect delay the server suggests to EventSource clients. */
export const EVENTS_RETRY_MS = 2000
/** Code of an error that carries none of its own (a defect): its kind is `internal`. */
export const INTERNAL_ERROR_CODE = 'ERR_INTERNAL'
/** Longest error message taken from an answer; a longer one is cut. */
export const MAX_ERROR_MESSAGE_CHARS = 4096
