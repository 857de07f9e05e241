// A process that builds the text index of a store and prints one line per content done (killed with SIGKILL by text-index-crash.test).
import { createDcStore, generateAuditKey } from '../src/index.js'

const [path, keyHex] = process.argv.slice(2)
const store = createDcStore({ path, auditKey: generateAuditKey(), discoveryPrivateKey: Buffer.from(keyHex, 'hex'), create: false })
await store.start()
await store.discovery.textIndexer.run({ onProgress: e => { process.stdout.write(`${e.done} ${e.sha256}\n`) } })
await store.stop()
process.stdout.write('finished\n')
