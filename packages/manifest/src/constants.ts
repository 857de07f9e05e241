/** Largest manifest accepted from disk or a peer (a 20 GiB image at 64 KiB blocks is about 12 MiB). */
export const MAX_MANIFEST_BYTES = 64 * 1024 * 1024
/** Text prefix of a formatted publisher public key. */
export const PUBLIC_KEY_PREFIX = 'ed25519:'
