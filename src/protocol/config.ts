/**
 * Per-node protocol configuration; defaults merged in exactly one place (`resolveConfig`).
 */
import { MeshError } from '../errors.ts';
import * as C from './constants.ts';

/** Every tunable of the core. */
export interface CoreConfig {
  /** Referrals are forwarded while `hops < referralRadius`. @default REFERRAL_RADIUS */
  referralRadius: number;
  /** A relay floods an IP / contact_req further only while `hops < searchRadius`. @default SEARCH_RADIUS */
  searchRadius: number;
  /** Contacts a searcher asks at once. @default SEARCH_FANOUT */
  searchFanout: number;
  /** Most contacts one search round asks (first ring; the flooding ring asks a quarter); 0 = all. @default SEARCH_MAX_ASK */
  searchMaxAsk: number;
  /** Max contacts a relay floods to (0 = all). @default RELAY_FANOUT */
  relayFanout: number;
  /** @default RELAY_TIMEOUT_MS */
  relayTimeoutMs: number;
  /** @default SEARCH_TIMEOUT_MS */
  searchTimeoutMs: number;
  /** @default REQUEST_TIMEOUT_MS */
  requestTimeoutMs: number;
  /** @default REFERRAL_TTL_MS */
  referralTtlMs: number;
  /** Presence announce to each contact; 0 disables periodic announces. @default ANNOUNCE_INTERVAL_MS */
  announceIntervalMs: number;
  /** @default REPLAY_WINDOW_MS */
  replayWindowMs: number;
  /** @default SEEN_CACHE_MAX */
  seenCacheMax: number;
  /** @default OUTBOX_RETRY_MIN_MS */
  outboxRetryMinMs: number;
  /** @default OUTBOX_RETRY_MAX_MS */
  outboxRetryMaxMs: number;
  /** @default INVITE_TTL_MS */
  inviteTtlMs: number;
  /** Accept every signed contact request without asking the user (a public peer with a domain). @default false */
  acceptAll: boolean;
  /** This node is a peer with a domain: accepts first contact from strangers. @default false */
  isPublic: boolean;
  /** Our listening port, sent as `Mesh-Port` so contacts learn our address. @default DEFAULT_PORT */
  port: number;
  /**
   * Ask contacts to dial us back to learn our reachability (docs/PROTOCOL.md §15). Real nodes turn
   * it on (MeshNode); off in the core by default so the simulator's message counts stay those of
   * routing alone. @default false
   */
  dialback: boolean;
  /**
   * Local port our channels are dialled from and hole punching starts from (docs/PROTOCOL.md §17);
   * null = this node does not punch (answers `connect` with no candidates). @default null
   */
  punchPort: number | null;
  /** De-duplication memory of delivered messages; must exceed 2 × replayWindowMs. @default DELIVERED_RETENTION_MS */
  deliveredRetentionMs: number;
  /** Delivered / failed outbox records are kept this long as history. @default OUTBOX_HISTORY_MS */
  outboxHistoryMs: number;
  /** Period of the sweep of expired soft state and retention. @default SWEEP_INTERVAL_MS */
  sweepIntervalMs: number;
  /** Exchange contact digests and route by them (issue 11). @default true */
  digests: boolean;
}

/** Options for `MeshCore`: every field optional. */
export type CoreInit = Partial<CoreConfig>;

/** The default configuration (the shipped defaults, docs/SIMULATION.md). */
export const DEFAULT_CONFIG: CoreConfig = {
  referralRadius: C.REFERRAL_RADIUS,
  searchRadius: C.SEARCH_RADIUS,
  searchFanout: C.SEARCH_FANOUT,
  searchMaxAsk: C.SEARCH_MAX_ASK,
  relayFanout: C.RELAY_FANOUT,
  relayTimeoutMs: C.RELAY_TIMEOUT_MS,
  searchTimeoutMs: C.SEARCH_TIMEOUT_MS,
  requestTimeoutMs: C.REQUEST_TIMEOUT_MS,
  referralTtlMs: C.REFERRAL_TTL_MS,
  announceIntervalMs: C.ANNOUNCE_INTERVAL_MS,
  replayWindowMs: C.REPLAY_WINDOW_MS,
  seenCacheMax: C.SEEN_CACHE_MAX,
  outboxRetryMinMs: C.OUTBOX_RETRY_MIN_MS,
  outboxRetryMaxMs: C.OUTBOX_RETRY_MAX_MS,
  inviteTtlMs: C.INVITE_TTL_MS,
  acceptAll: false,
  isPublic: false,
  port: C.DEFAULT_PORT,
  dialback: false,
  punchPort: null,
  deliveredRetentionMs: C.DELIVERED_RETENTION_MS,
  outboxHistoryMs: C.OUTBOX_HISTORY_MS,
  sweepIntervalMs: C.SWEEP_INTERVAL_MS,
  digests: true,
};

/** The seed's original routing numbers (`--strategy seed`). */
export const SEED_CONFIG: CoreInit = {
  referralRadius: C.SEED_REFERRAL_RADIUS,
  searchRadius: C.SEED_SEARCH_RADIUS,
  searchFanout: 1_000_000,
  searchMaxAsk: 0,
  relayFanout: 0,
  digests: false,
};

/** Merges options over the defaults (the one place defaults are applied). */
export function resolveConfig(init: CoreInit = {}): CoreConfig {
  const out = { ...DEFAULT_CONFIG };
  for (const [k, v] of Object.entries(init)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  if (!(out.deliveredRetentionMs > 2 * out.replayWindowMs))
    throw MeshError.invalidArgument(
      `deliveredRetentionMs (${out.deliveredRetentionMs}) must exceed 2 × replayWindowMs (${out.replayWindowMs}): a shorter de-duplication memory would let a retry be delivered twice`,
    );
  return out;
}

/**
 * Oldest `sentAt` (by our clock, `now` − this) a new message may carry, ms: the retention less two
 * replay windows (the sender's clock may lag ours by one when it wrote `sentAt`, and the retention
 * started by ours when we received the first copy). A message this old cannot be a retry we would
 * still remember, so it is refused, never delivered twice (issue 12 #18, retention).
 */
export function messageMaxAge(cfg: CoreConfig): number {
  return cfg.deliveredRetentionMs - 2 * cfg.replayWindowMs;
}
