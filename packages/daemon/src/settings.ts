/**
 * A CachePoint's data directory and config without the daemon: init, the
 * identity, loading, checking and editing config.json, the file names and
 * errors. A light entry point (no libp2p host, no block exchange): the CLI's
 * offline commands (init, id, config, and every command that reads the
 * config before it talks to the daemon) load this, not the whole package.
 */
export * from './constants.js'
export * from './errors.js'
export * from './config.js'
export type { PersonalConfig } from './personal-config.js'
export { parseSwarmFields, checkNetworkKeyFile, type SwarmConfig } from './swarm-config.js'
export { CONFIG_KEYS, nearest } from './config-schema.js'
export { isLoopbackAddress, openListenAddress } from './open-listen.js'
export { configKeyKind, editConfigFile, readConfigDocument, type ConfigKeyKind } from './config-edit.js'
