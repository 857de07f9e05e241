import {
  AbortMultipartUploadCommand, CompleteMultipartUploadCommand, CreateBucketCommand, CreateMultipartUploadCommand, DeleteObjectCommand, GetObjectCommand,
  GetObjectLockConfigurationCommand, HeadBucketCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, UploadPartCommand,
  type ObjectLockMode, type PutObjectCommandInput
} from '@aws-sdk/client-s3'
import { BlockCorruptError, BlockNotFoundError, BlockTooLargeError, type Blockstore } from '@cachecloud/blockstore'
import { bytesMatchCid, type CID } from '@cachecloud/core'
import type { BlockBackend } from './backend.js'
import { BackendViews } from './backend-blockstore.js'
import { checkKey, checkPut, cidOfName } from './backend-checks.js'
import { MAX_BACKEND_BLOCK_BYTES, S3_ABSENT_MAX, S3_ABSENT_TTL_MS, S3_CONNECT_TIMEOUT_MS, S3_MAX_ATTEMPTS, S3_MAX_SOCKETS, S3_MULTIPART_BYTES, S3_PART_BYTES, S3_REQUEST_TIMEOUT_MS } from './constants.js'
import { assertValidUser } from './enrollment.js'
import { BackendConfigError, BackendUnavailableError, BackendWormError } from './errors.js'

export interface S3BackendConfig {
  kind: 's3'
  bucket: string
  /** Key prefix inside the bucket (e.g. `dcstore/`). Default none. */
  prefix?: string
  /** Endpoint URL of an S3-compatible service (Swift s3api, Ceph RGW, MinIO); default AWS. */
  endpoint?: string
  region?: string
  /** Path-style addressing (`http://host/bucket/key`), which most S3-compatible services need. Default true with an endpoint. */
  forcePathStyle?: boolean
  /** Credentials; default the SDK's chain ($AWS_ACCESS_KEY_ID / $AWS_SECRET_ACCESS_KEY, ~/.aws, ...). */
  accessKeyId?: string
  secretAccessKey?: string
  /** Object lock: every block is kept unchangeable this many days, where the bucket has object lock enabled. */
  lockDays?: number
  /** COMPLIANCE (nobody can shorten it) or GOVERNANCE. Default COMPLIANCE. */
  lockMode?: ObjectLockMode
  /** Create the bucket when it does not exist (with object lock when lockDays is set). Default false. */
  createBucket?: boolean
}

const statusOf = (err: unknown): number | undefined => (err as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode
const nameOf = (err: unknown): string => String((err as { name?: unknown }).name ?? '')
const isNotFound = (err: unknown): boolean => statusOf(err) === 404 || nameOf(err) === 'NoSuchKey' || nameOf(err) === 'NotFound'

/**
 * Blocks as objects in an S3-compatible bucket, keyed by content
 * (`<prefix><user>/<cid>`): several store processes write one bucket without
 * coordination (the same key always holds the same bytes). A put is
 * idempotent (looked up first; conditional where the service honours
 * `If-None-Match: *`), blocks past S3_MULTIPART_BYTES go up in parts, every
 * request is retried with backoff (the SDK's standard mode), and where the
 * bucket has object lock each block is written under a retention the store
 * cannot shorten (WORM). A put acknowledged is durable: sync has nothing to do.
 * Layout: docs/formats/dcstore.md#s3-backend.
 */
export class S3Backend implements BlockBackend {
  readonly kind = 's3'
  readonly multiWriter = true
  private lockEnabled = false
  private conditionalPuts = true
  private readonly client: S3Client
  private readonly prefix: string
  private readonly views = new BackendViews(this)
  /** Keys a lookup just found absent (key -> when): the put that follows (the replication server asks, then wants, then puts) skips a second lookup. */
  private readonly absent = new Map<string, number>()

  constructor (private readonly config: S3BackendConfig) {
    if (typeof config.bucket !== 'string' || !/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/.test(config.bucket)) throw new BackendConfigError(`S3 bucket name ${JSON.stringify(config.bucket)} is not valid (3-63 lowercase letters, digits, '.', '-')`)
    if (config.lockDays !== undefined && (!Number.isInteger(config.lockDays) || config.lockDays < 1 || config.lockDays > 36500)) throw new BackendConfigError(`object lock days must be a whole number from 1 to 36500, not ${String(config.lockDays)}`)
    this.prefix = config.prefix ?? ''
    if (this.prefix !== '' && !/^[A-Za-z0-9._/-]{1,200}\/$/.test(this.prefix)) throw new BackendConfigError(`S3 key prefix ${JSON.stringify(this.prefix)} must be letters, digits, '.', '_', '-', '/' and end in '/'`)
    // the SDK warns on stderr about Node 20 at the first client; a library does not print
    process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true'
    this.client = new S3Client({
      ...(config.endpoint === undefined ? {} : { endpoint: config.endpoint }),
      region: config.region ?? 'us-east-1',
      forcePathStyle: config.forcePathStyle ?? config.endpoint !== undefined,
      ...(config.accessKeyId !== undefined && config.secretAccessKey !== undefined
        ? {
            credentials: {
              accessKeyId: config.accessKeyId,
              secretAccessKey: config.secretAccessKey
            }
          }
        : {}),
      maxAttempts: S3_MAX_ATTEMPTS,
      retryMode: 'standard',
      // S3-compatible services (Swift s3api) do not all take the SDK's default trailing CRC32 checksums; the CID is the block's checksum
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: {
        connectionTimeout: S3_CONNECT_TIMEOUT_MS,
        requestTimeout: S3_REQUEST_TIMEOUT_MS,
        httpAgent: { maxSockets: S3_MAX_SOCKETS, keepAlive: true }
      }
    })
  }

  /** Whether blocks are written under object lock (the bucket has it enabled and lockDays is set). */
  get worm (): boolean { return this.lockEnabled }

  private key (user: string, cid: CID): string { return `${this.prefix}${user}/${cid.toString()}` }

  /** Runs an S3 request; what fails after the SDK's retries is BackendUnavailableError (a 404 is the caller's to judge). */
  private async send<T> (what: string, fn: () => Promise<T>): Promise<T> {
    try { return await fn() } catch (err) {
      if (isNotFound(err) || statusOf(err) === 412) throw err
      throw new BackendUnavailableError(`S3 ${what} failed: ${nameOf(err)} ${(err as Error).message}`.slice(0, 500), { cause: err })
    }
  }

  async start (): Promise<void> {
    const Bucket = this.config.bucket
    try {
      await this.client.send(new HeadBucketCommand({ Bucket }))
    } catch (err) {
      if (!isNotFound(err)) throw new BackendUnavailableError(`S3 bucket ${Bucket} at ${this.config.endpoint ?? 'AWS'} is not reachable: ${nameOf(err)} ${(err as Error).message}`, { cause: err })
      if (this.config.createBucket !== true) throw new BackendConfigError(`S3 bucket ${Bucket} does not exist (create it, or let the store: createBucket)`)
      await this.send(`create bucket ${Bucket}`, async () => await this.client.send(new CreateBucketCommand({ Bucket, ...(this.config.lockDays === undefined ? {} : { ObjectLockEnabledForBucket: true }) })))
    }
    if (this.config.lockDays !== undefined) {
      // the service says whether it offers object lock: Swift's s3api answers with an empty configuration, others with an error
      const lock = await this.client.send(new GetObjectLockConfigurationCommand({ Bucket })).catch(() => undefined)
      this.lockEnabled = lock?.ObjectLockConfiguration?.ObjectLockEnabled === 'Enabled'
    }
  }

  async stop (): Promise<void> { this.client.destroy() }

  async blockstore (user: string): Promise<Blockstore> {
    assertValidUser(user)
    return this.views.of(user)
  }

  async put (user: string, cid: CID, bytes: Uint8Array): Promise<boolean> {
    checkPut(user, cid, bytes)
    const Key = this.key(user, cid)
    const absentAt = this.absent.get(Key)
    this.absent.delete(Key)
    // a put of the same bytes under the same key is harmless: the lookup only saves the upload
    if ((absentAt === undefined || Date.now() - absentAt > S3_ABSENT_TTL_MS) && await this.size(user, cid) !== undefined) return false
    const lock: Partial<PutObjectCommandInput> = this.lockEnabled
      ? { ObjectLockMode: this.config.lockMode ?? 'COMPLIANCE', ObjectLockRetainUntilDate: new Date(Date.now() + this.config.lockDays! * 86_400_000) }
      : {}
    if (bytes.byteLength > S3_MULTIPART_BYTES) {
      await this.putMultipart(Key, bytes, lock)
      return true
    }
    const input: PutObjectCommandInput = { Bucket: this.config.bucket, Key, Body: bytes, ContentLength: bytes.byteLength, ...lock }
    try {
      await this.send(`put ${Key}`, async () => await this.client.send(new PutObjectCommand({ ...input, ...(this.conditionalPuts ? { IfNoneMatch: '*' } : {}) })))
    } catch (err) {
      if (statusOf(err) === 412) return false // another process put it meanwhile
      if (statusOf((err as { cause?: unknown }).cause) !== 501) throw err
      // the service does not do conditional puts (Swift): the same key always gets the same bytes, so a plain put is as good
      this.conditionalPuts = false
      await this.send(`put ${Key}`, async () => await this.client.send(new PutObjectCommand(input)))
    }
    return true
  }

  private async putMultipart (Key: string, bytes: Uint8Array, lock: Partial<PutObjectCommandInput>): Promise<void> {
    const Bucket = this.config.bucket
    const { UploadId } = await this.send(`start multipart upload of ${Key}`, async () => await this.client.send(new CreateMultipartUploadCommand({ Bucket, Key, ...lock })))
    try {
      const parts: Array<{ PartNumber: number, ETag?: string }> = []
      for (let offset = 0, PartNumber = 1; offset < bytes.byteLength; offset += S3_PART_BYTES, PartNumber++) {
        const Body = bytes.subarray(offset, Math.min(offset + S3_PART_BYTES, bytes.byteLength))
        const { ETag } = await this.send(`upload part ${PartNumber} of ${Key}`, async () => await this.client.send(new UploadPartCommand({ Bucket, Key, UploadId, PartNumber, Body, ContentLength: Body.byteLength })))
        parts.push({ PartNumber, ETag })
      }
      await this.send(`complete multipart upload of ${Key}`, async () => await this.client.send(new CompleteMultipartUploadCommand({ Bucket, Key, UploadId, MultipartUpload: { Parts: parts } })))
    } catch (err) {
      await this.client.send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId })).catch(() => {})
      throw err
    }
  }

  async get (user: string, cid: CID): Promise<Uint8Array> {
    checkKey(user, cid)
    const Key = this.key(user, cid)
    let out
    try { out = await this.send(`get ${Key}`, async () => await this.client.send(new GetObjectCommand({ Bucket: this.config.bucket, Key }))) } catch (err) {
      if (isNotFound(err)) throw new BlockNotFoundError(`block ${cid.toString()} is not in the store of ${user}`)
      throw err
    }
    // bounded before the body is read: an object past any block's size is not one
    if ((out.ContentLength ?? 0) > MAX_BACKEND_BLOCK_BYTES) {
      await out.Body?.transformToWebStream().cancel().catch(() => {})
      throw new BlockTooLargeError(`stored block ${cid.toString()} is ${String(out.ContentLength)} bytes, more than the limit of ${MAX_BACKEND_BLOCK_BYTES}`)
    }
    const bytes = await this.send(`read ${Key}`, async () => await out.Body!.transformToByteArray())
    if (!bytesMatchCid(cid, bytes)) throw new BlockCorruptError(`stored block ${cid.toString()} of ${user} does not hash to its CID`)
    return bytes
  }

  async has (user: string, cid: CID): Promise<boolean> {
    const held = await this.size(user, cid) !== undefined
    if (!held) {
      this.absent.set(this.key(user, cid), Date.now())
      if (this.absent.size > S3_ABSENT_MAX) this.absent.delete(this.absent.keys().next().value!)
    }
    return held
  }

  async size (user: string, cid: CID): Promise<number | undefined> {
    checkKey(user, cid)
    const Key = this.key(user, cid)
    try {
      const head = await this.send(`head ${Key}`, async () => await this.client.send(new HeadObjectCommand({ Bucket: this.config.bucket, Key })))
      return head.ContentLength ?? 0
    } catch (err) { if (isNotFound(err)) return undefined; throw err }
  }

  async * cids (user: string): AsyncIterable<CID> {
    assertValidUser(user)
    const Prefix = `${this.prefix}${user}/`
    let ContinuationToken: string | undefined
    do {
      const page = await this.send(`list ${Prefix}`, async () => await this.client.send(new ListObjectsV2Command({ Bucket: this.config.bucket, Prefix, ...(ContinuationToken === undefined ? {} : { ContinuationToken }) })))
      for (const o of page.Contents ?? []) {
        const cid = cidOfName((o.Key ?? '').slice(Prefix.length))
        if (cid !== undefined) yield cid
      }
      ContinuationToken = page.IsTruncated === true ? page.NextContinuationToken : undefined
    } while (ContinuationToken !== undefined)
  }

  async delete (user: string, cid: CID): Promise<void> {
    checkKey(user, cid)
    const Key = this.key(user, cid)
    try {
      await this.send(`delete ${Key}`, async () => await this.client.send(new DeleteObjectCommand({ Bucket: this.config.bucket, Key })))
    } catch (err) {
      if (isNotFound(err)) return
      if (this.lockEnabled && statusOf((err as { cause?: unknown }).cause) === 403) throw new BackendWormError(`block ${cid.toString()} of ${user} is under object lock and cannot be deleted yet`)
      throw err
    }
  }

  async sync (): Promise<void> {}
}
