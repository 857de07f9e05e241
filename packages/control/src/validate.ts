import { BadRequestError } from './errors.js'
import type { ExportRequest, ImportRequest, PullRequest } from './images-api.js'
import type { CheckRequest, PruneRequest, RemoveRequest } from './lifecycle-api.js'
import type { PersonalRestoreRequest } from './personal-api.js'
import type { SubscriptionInfo } from './swarm-api.js'

type Json = Record<string, unknown>

/** Longest NAME@VERSION or image name taken. */
const MAX_REF_CHARS = 300
/** Most peers one request may name. */
const MAX_PEERS = 64

function object (body: unknown): Json {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new BadRequestError('request body must be a JSON object')
  return body as Json
}

function string (body: Json, key: string): string {
  const value = body[key]
  if (typeof value !== 'string' || value === '') throw new BadRequestError(`"${key}" must be a non-empty string`)
  return value
}

function optional<T> (body: Json, key: string, check: (value: unknown) => value is T, what: string): T | undefined {
  const value = body[key]
  if (value === undefined) return undefined
  if (!check(value)) throw new BadRequestError(`"${key}" must be ${what}`)
  return value
}

const isPositiveInteger = (v: unknown): v is number => typeof v === 'number' && Number.isSafeInteger(v) && v > 0
const isBoolean = (v: unknown): v is boolean => typeof v === 'boolean'
const isStringList = (v: unknown): v is string[] => Array.isArray(v) && v.every(s => typeof s === 'string')

export function importRequest (input: unknown): ImportRequest {
  const body = object(input)
  return {
    file: string(body, 'file'),
    name: string(body, 'name'),
    version: string(body, 'version'),
    blockSize: optional(body, 'blockSize', isPositiveInteger, 'a positive integer'),
    compressionLevel: optional(body, 'compressionLevel', isCompressionLevel, 'an integer from 0 to 19'),
    format: optional(body, 'format', isFormatName, 'a disk format name')
  }
}

/** Bounded here; which names are known is the daemon's to say (one message listing them). */
function isFormatName (value: unknown): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= 40
}

function isCompressionLevel (value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 19
}

export function pullRequest (input: unknown): PullRequest {
  const body = object(input)
  return { ref: string(body, 'ref'), from: optional(body, 'from', isStringList, 'a list of multiaddrs') }
}

export function exportRequest (input: unknown): ExportRequest {
  const body = object(input)
  return { ref: string(body, 'ref'), file: string(body, 'file'), overwrite: optional(body, 'overwrite', isBoolean, 'true or false'), format: optional(body, 'format', isFormatName, 'a disk format name') }
}

export function personalRestoreRequest (input: unknown): PersonalRestoreRequest {
  const body = object(input)
  const isString = (v: unknown): v is string => typeof v === 'string'
  const isTime = (v: unknown): v is string => typeof v === 'string' && !Number.isNaN(Date.parse(v))
  const path = optional(body, 'path', isString, 'a path inside the folder')
  const at = optional(body, 'at', isTime, 'a time such as 2026-11-20T12:00:00Z')
  const to = optional(body, 'to', (v: unknown): v is string => typeof v === 'string' && v.startsWith('/'), 'an absolute directory path')
  const fromStore = optional(body, 'fromStore', isBoolean, 'true or false')
  return { user: string(body, 'user'), ...(path === undefined ? {} : { path }), ...(at === undefined ? {} : { at }), ...(to === undefined ? {} : { to }), ...(fromStore === undefined ? {} : { fromStore }) }
}

export function personalSnapshotRequest (input: unknown): { user: string } {
  return { user: string(object(input), 'user') }
}

/** A non-empty string field of a body that may be anything (null, a number): the one message for all. */
export function field (body: unknown, key: string): string {
  const value = typeof body === 'object' && body !== null ? (body as Json)[key] : undefined
  if (typeof value !== 'string' || value === '') throw new BadRequestError(`"${key}" must be a non-empty string`)
  return value
}

export function subscribeRequest (body: unknown): { name: string, policy: SubscriptionInfo['policy'] } {
  const policy = (typeof body === 'object' && body !== null ? (body as Json).policy : undefined) ?? 'auto'
  if (policy !== 'auto' && policy !== 'manual') throw new BadRequestError('"policy" must be auto or manual')
  return { name: field(body, 'name'), policy }
}

function flag (b: Json, key: string): boolean | undefined {
  if (b[key] !== undefined && typeof b[key] !== 'boolean') throw new BadRequestError(`"${key}" must be true or false`)
  return b[key] as boolean | undefined
}

export function removeRequest (input: unknown): RemoveRequest {
  const b = object(input)
  const ref = b.ref
  if (typeof ref !== 'string' || ref === '' || ref.length > MAX_REF_CHARS) throw new BadRequestError('"ref" must be NAME@VERSION')
  return { ref, force: flag(b, 'force') }
}

export function pruneRequest (input: unknown): PruneRequest {
  const b = object(input)
  if (b.name !== undefined && (typeof b.name !== 'string' || b.name === '' || b.name.length > MAX_REF_CHARS)) throw new BadRequestError('"name" must be an image name')
  return { dryRun: flag(b, 'dryRun'), name: b.name as string | undefined }
}

export function checkRequest (input: unknown): CheckRequest {
  const b = object(input)
  const subset = b.readDataSubset
  if (subset !== undefined && (typeof subset !== 'string' || subset.length > 32)) throw new BadRequestError('"readDataSubset" must be N/T or P%')
  const from = b.from
  if (from !== undefined && (!Array.isArray(from) || from.length > MAX_PEERS || !from.every(s => typeof s === 'string' && s.length <= 1000))) throw new BadRequestError(`"from" must be a list of at most ${MAX_PEERS} multiaddrs`)
  return { readData: flag(b, 'readData'), readDataSubset: subset as string | undefined, repair: flag(b, 'repair'), from: from as string[] | undefined }
}
