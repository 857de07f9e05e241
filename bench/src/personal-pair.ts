import { createCipheriv, createHash } from 'node:crypto'
import { writeFile } from 'node:fs/promises'
import { join } from 'node:path'
import { generateKeyPair } from '@libp2p/crypto/keys'
import { createBlockstore, type Blockstore } from '@cachecloud/blockstore'
import { createDcStore, generateAuditKey } from '@cachecloud/dcstore'
import { createNetwork } from '@cachecloud/network'
import { createPersonalFolder, generateX25519KeyPair, type PersonalFolder } from '@cachecloud/personal'

// What the personal benchmarks share: file content, the 1% edit, and a node
// replicating to an in-process data-center store on loopback.

/** Files per directory in the benchmark trees. */
export const PER_DIR = 100

/** `size` bytes that do not compress or dedupe, a function of `seed`. */
export function content (seed: string, size: number): Buffer {
  return createCipheriv('aes-256-ctr', createHash('sha256').update(seed).digest(), Buffer.alloc(16)).update(Buffer.alloc(size))
}

/** Rewrites 1% of the `files` files (8 KiB each, spread over the tree); returns how many and their bytes. */
export async function editOnePercent (folder: string, files: number): Promise<{ edited: number, changed: number }> {
  const edited = Math.max(1, Math.floor(files / 100))
  let changed = 0
  for (let i = 0; i < edited; i++) {
    const k = Math.floor(i * files / edited)
    const data = content(`edit/${k}`, 8 * 1024)
    await writeFile(join(folder, `dir${Math.floor(k / PER_DIR)}`, `f${k % PER_DIR}.dat`), data)
    changed += data.byteLength
  }
  return { edited, changed }
}

export interface PersonalPair {
  sync: PersonalFolder
  /** The node's block store. */
  blockstore: Blockstore
  /** The discovery key pair of the store (its public key seals the user key). */
  discovery: ReturnType<typeof generateX25519KeyPair>
  stop: () => Promise<void>
}

/** A node versioning `folder` for user alice, enrolled at a data-center store; both on loopback, state under `dir`. */
export async function startPersonalPair (dir: string, folder: string): Promise<PersonalPair> {
  const discovery = generateX25519KeyPair()
  const storeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const nodeHost = await createNetwork({ privateKey: await generateKeyPair('Ed25519'), listen: ['/ip4/127.0.0.1/tcp/0'] })
  const store = createDcStore({ path: join(dir, 'store'), libp2p: storeHost, discoveryPrivateKey: discovery.privateKey, operator: 'bench', auditKey: generateAuditKey() })
  await store.start()
  await store.enroll(nodeHost.peerId.toString(), ['alice'])
  const blockstore = createBlockstore({ path: join(dir, 'node-blocks') })
  await blockstore.start()
  const sync = createPersonalFolder({
    user: 'alice', folder, stateDir: join(dir, 'state'), blockstore, node: nodeHost.peerId.toString(),
    discoveryKey: discovery.publicKey, libp2p: nodeHost, store: storeHost.getMultiaddrs()[0], watch: false
  })
  return {
    sync,
    blockstore,
    discovery,
    stop: async () => {
      await store.stop()
      await blockstore.stop()
      await nodeHost.stop()
      await storeHost.stop()
    }
  }
}
