// Protocol ids, limits and defaults of the swarm; messages are specified in docs/formats/protocols.md.

/** Which blocks of a version a peer holds and has claimed (requested over the WAN), and the peer's site. */
export const HAVE_PROTOCOL = '/cachecloud/have/1.1.0'
/** Pubsub topic of an image's announcements: this prefix, then the image name. */
export const ANNOUNCE_TOPIC_PREFIX = '/cachecloud/announce/1.0.0/'
/** Largest have request: type byte and a manifest CID. */
export const MAX_HAVE_REQUEST_BYTES = 1 + 8 + 128
/** Most manifest entries a have bitmap may cover (a 1 TiB image of 256 KiB blocks). */
export const MAX_HAVE_BLOCKS = 4 * 1024 * 1024
/** Largest have response: status, site, count and the two bitmaps (held, claimed). */
export const MAX_HAVE_RESPONSE_BYTES = 1 + 1 + 128 + 8 + 2 * MAX_HAVE_BLOCKS / 8
/** How many bytes each block of a version takes as a peer would send it (compressed), for plans. */
export const SIZES_PROTOCOL = '/cachecloud/sizes/1.0.0'
/** Largest sizes response: status, count and a varint (at most 4 bytes for 16 MiB) per manifest entry. */
export const MAX_SIZES_RESPONSE_BYTES = 1 + 8 + 4 * MAX_HAVE_BLOCKS

/** Largest announcement message. */
export const MAX_ANNOUNCE_BYTES = 1024
/** The announcement message version this node sends and acts on (signed by a publisher key); version 1 (unsigned) is ignored. */
export const ANNOUNCEMENT_VERSION = 2
/** Domain of an announcement signature, so that it can never pass for another signed object (a manifest). */
export const ANNOUNCEMENT_SIGNING_DOMAIN = 'cachecloud/announce/2'
/** An announcement signed longer ago than this is a replay and is ignored (catch-up still finds the version). */
export const ANNOUNCEMENT_MAX_AGE_MS = 24 * 60 * 60 * 1000
/** An announcement dated further ahead than this (clock skew) is ignored. */
export const ANNOUNCEMENT_MAX_SKEW_MS = 10 * 60 * 1000
/** A sender's dropped announcements are logged at warn at most this often (then at debug): a flood of forgeries is no log flood. */
export const ANNOUNCEMENT_WARN_INTERVAL_MS = 60_000
/** Announcements remembered (the latest per ref: its manifest CID and announcer), for pulls not yet started. */
export const MAX_ANNOUNCERS_KEPT = 64
/** Finished swarm pulls (complete or given up) kept for status; the oldest are dropped first. */
export const MAX_FINISHED_PULLS_KEPT = 64
/** Longest site label. */
export const MAX_SITE_BYTES = 128

/** How often a pull asks every connected peer what it holds. */
export const DEFAULT_HAVE_INTERVAL_MS = 1_000
/** A have request fails after this long. */
export const DEFAULT_HAVE_TIMEOUT_MS = 5_000
/** Seconds of a peer's measured rate kept requested from it (per-peer pipeline depth). */
export const DEFAULT_PIPELINE_SECONDS = 0.5
/** Bytes requested from a peer before its rate is measured. */
export const DEFAULT_INITIAL_WINDOW_BYTES = 2 * 1024 * 1024
/** Bytes requested from a peer of another site before its rate is measured. */
export const WAN_INITIAL_WINDOW_BYTES = 512 * 1024
/** Most bytes requested and unanswered from one peer. */
export const DEFAULT_MAX_WINDOW_BYTES = 16 * 1024 * 1024
/** A same-site peer that has not asked this node's holdings for this long no longer gets a share of the site's WAN fetching (a killed or cut member keeps its share that long). */
export const DEFAULT_STALL_MS = 12_000
/**
 * Fence: before fetching over the WAN, a pull waits until each same-site peer pulling the same
 * version has asked its holdings and then answered a have request sent at least this long after
 * (so the peer counts this node in the site's group, and the answer lists every block it claimed
 * before). Covers the peer's processing of the answer.
 */
export const FENCE_MARGIN_MS = 300
/** A fencing have request goes out this long after FENCE_MARGIN_MS has passed (timers fire a little early or late). */
export const FENCE_POLL_SLACK_MS = 20
/**
 * No WAN request while every have request sent this long ago or more is unanswered and nothing (an answer, a
 * block) has come from any peer since the oldest went out: this node's own link is probably down, and its view
 * of the site (who pulls, who claims what) is as old as its last answers. Failed requests say the same later,
 * after their timeout.
 */
export const LINK_SILENCE_MS = 500
/** A same-site peer holding part of the version that has not asked this node's holdings within this long is taken as not pulling (no share, no fence). */
export const FENCE_WAIT_MS = 3_000
/** A connected same-site peer (by identify) that has not answered a have request blocks WAN requests this long at most. */
export const LAN_ANSWER_WAIT_MS = 10_000
/** A pull that knows no same-site peer waits this long before its first WAN request (a restarted node finding its site over mDNS). */
export const DEFAULT_LAN_WAIT_MS = 4_000
/** Endgame: a block requested this long ago and not received may be asked of a second peer. */
export const DEFAULT_ENDGAME_AFTER_MS = 1_500
/** A peer that lied (wrong bytes, a block it advertised and refused) is not asked again for this long; doubled on each repeat. */
export const DEFAULT_PENALTY_MS = 30_000
/** Not-found answers for advertised blocks before a peer counts as lying. */
export const LIES_BEFORE_PENALTY = 2
/** WAN budget burst, in seconds of the budget's rate. */
export const WAN_BURST_SECONDS = 0.25
/** New bytes between two commits (blockstore.sync) of a swarm pull. */
export const DEFAULT_COMMIT_BYTES = 64 * 1024 * 1024
/** Blocks stored concurrently per peer session. */
export const DEFAULT_PUT_CONCURRENCY = 8
/** Silence limit of a block stream with blocks requested. */
export const DEFAULT_BLOCK_TIMEOUT_MS = 15_000
/** A pull waits this long before fetching from other sites, so that same-site peers pulling the same version are known. */
export const DEFAULT_WAN_START_DELAY_MS = 1_500
/** A pull that received nothing for this long fetches any block over the WAN, whoever's share it is (members' views disagreed, or a member is gone). */
export const DEADLOCK_MS = 20_000
/** Have requests to a peer that fail in a row before a pull forgets what the peer holds. */
export const HAVE_FAILURES_BEFORE_FORGET = 3
/** Subscribed images are checked against peers' catalogs this often (a missed announcement is caught up). */
export const DEFAULT_CATCH_UP_INTERVAL_MS = 10_000

/** Pubsub topic of an image's rollout reports: this prefix, then the image name. */
export const ROLLOUT_TOPIC_PREFIX = '/cachecloud/rollout/1.0.0/'
/** How often a node reports what it holds of each image it holds or subscribes to. */
export const DEFAULT_ROLLOUT_INTERVAL_MS = 60_000
/** A node not heard from for this many intervals counts as offline (with when it was last seen). */
export const ROLLOUT_OFFLINE_AFTER_INTERVALS = 3
/** Largest rollout report. */
export const MAX_ROLLOUT_BYTES = 4096
/** Versions of one image a report lists (the newest). */
export const MAX_REPORT_VERSIONS = 8
/** Nodes a collector remembers per image; the one heard from longest ago goes first. */
export const MAX_ROLLOUT_NODES = 10_000
