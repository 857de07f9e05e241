/** Path the endpoint serves (anything else: 404). */
export const METRICS_PATH = '/metrics'
/** Default listen host: loopback only. */
export const DEFAULT_METRICS_HOST = '127.0.0.1'
/** Seconds buckets of the pull duration histogram: a small delta to a 40 GB image over a slow WAN. */
export const PULL_SECONDS_BUCKETS = [1, 5, 15, 30, 60, 120, 300, 600, 1800, 3600, 7200, 21600]
/** Seconds buckets of the NBD read latency histogram: a local block to a block fetched over the WAN. */
export const NBD_READ_SECONDS_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5]
/** Shortest bearer token accepted (a token file with less is refused). */
export const MIN_TOKEN_LENGTH = 16
/** Longest token (and Authorization header) looked at. */
export const MAX_TOKEN_LENGTH = 512
/** Distinct values kept for a label whose values come from peers (site, error code): the rest go to "other". */
export const MAX_LABEL_VALUES = 64
