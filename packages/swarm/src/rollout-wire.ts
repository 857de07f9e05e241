import { assertValidLabel } from '@cachecloud/core'
import { MAX_REPORT_VERSIONS, MAX_ROLLOUT_BYTES, MAX_SITE_BYTES, ROLLOUT_TOPIC_PREFIX } from './constants.js'
import { InvalidSwarmMessageError } from './errors.js'

/**
 * The rollout report (docs/formats/protocols.md, "Rollout reports"): what one
 * node holds of one image, sent on the image's rollout topic once per
 * interval. The sender is the gossipsub message's signed `from`.
 */
export interface RolloutReport {
  image: string
  site: string
  versions: Array<{ version: string, cid: string, state: 'complete' | 'pulling', done: number, total: number }>
}

export function rolloutTopic (name: string): string { return ROLLOUT_TOPIC_PREFIX + name }

export function rolloutTopicImage (topic: string): string | undefined {
  return topic.startsWith(ROLLOUT_TOPIC_PREFIX) ? topic.slice(ROLLOUT_TOPIC_PREFIX.length) : undefined
}

export function encodeRolloutReport (r: RolloutReport): Uint8Array {
  return new TextEncoder().encode(JSON.stringify({ v: 1, image: r.image, site: r.site, versions: r.versions.slice(0, MAX_REPORT_VERSIONS) }))
}

const count = (value: unknown, what: string): number => {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw new Error(`${what} must be a non-negative integer`)
  return value
}

/** Parses and bounds a report (size, shape, labels, numbers) before the collector keeps anything of it. */
export function decodeRolloutReport (bytes: Uint8Array, topicImage: string): RolloutReport {
  if (bytes.byteLength > MAX_ROLLOUT_BYTES) throw new InvalidSwarmMessageError(`rollout report of ${bytes.byteLength} bytes (at most ${MAX_ROLLOUT_BYTES})`)
  try {
    const value = JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(bytes)) as Record<string, unknown>
    if (typeof value !== 'object' || value === null || value.v !== 1) throw new Error('not a version 1 report')
    if (value.image !== topicImage) throw new Error(`reports ${JSON.stringify(value.image)} on the topic of ${topicImage}`)
    const site = value.site
    if (typeof site !== 'string' || new TextEncoder().encode(site).byteLength > MAX_SITE_BYTES) throw new Error('site must be a string of at most 128 bytes')
    if (!Array.isArray(value.versions) || value.versions.length > MAX_REPORT_VERSIONS) throw new Error(`versions must be a list of at most ${MAX_REPORT_VERSIONS}`)
    const versions = value.versions.map((v: Record<string, unknown>): RolloutReport['versions'][number] => {
      if (typeof v !== 'object' || v === null) throw new Error('a version must be an object')
      const version = String(v.version)
      assertValidLabel('version', version)
      if (typeof v.cid !== 'string' || v.cid.length > 200) throw new Error('cid must be a string')
      const state = v.state
      if (state !== 'complete' && state !== 'pulling') throw new Error('state must be complete or pulling')
      const done = count(v.done, 'done')
      const total = count(v.total, 'total')
      return { version, cid: v.cid, state, done: Math.min(done, total), total }
    })
    return { image: topicImage, site, versions }
  } catch (err) {
    throw new InvalidSwarmMessageError(`bad rollout report: ${(err as Error).message}`)
  }
}
