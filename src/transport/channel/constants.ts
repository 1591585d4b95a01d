/**
 * Channel defaults (docs/PROTOCOL.md §13.6) with units and reasons, and the WebSocket close codes the
 * channel uses (docs/PROTOCOL.md §13.5). Transport-level: the protocol core never sees these.
 */

/** Close codes: 1000/1001/1009 are RFC 6455's; 4000–4999 are ours (RFC 6455 §7.4.2 "private use"). */
export const CLOSE = {
  /** The channel was released (no longer kept) or replaced by a newer one from the same dialer. */
  NORMAL: 1000,
  /** The node is stopping. */
  GOING_AWAY: 1001,
  /** A frame exceeded the frame limit (sent by `ws` itself for an oversized message). */
  TOO_BIG: 1009,
  /** The node already holds its limit of channels; try POST. */
  TRY_LATER: 1013,
  /** A frame did not decode, or came in the wrong state (REQUEST before HELLO, a second HELLO). */
  BAD_FRAME: 4000,
  /** HELLO refused: bad signature over this session's exporter, wrong role, key not the pinned one, or our own key. */
  AUTH_FAILED: 4001,
  /** One channel per pair: the other channel between the same two nodes wins (docs/PROTOCOL.md §13.4). */
  DUPLICATE: 4002,
  /** No HELLO within the handshake time, or nothing heard for two ping intervals (local only after a ping timeout). */
  TIMEOUT: 4003,
} as const;

/** A channel close code. */
export type ChannelCloseCode = (typeof CLOSE)[keyof typeof CLOSE] | number;

/** Time to complete the HELLO exchange after the upgrade, ms: the same budget as the HTTP headers timeout. */
export const CHANNEL_HELLO_TIMEOUT_MS = 5_000;
/**
 * Ping interval, ms. A channel with nothing received (frame or pong) for two intervals is dropped:
 * 15 s keeps NAT and firewall mappings alive (typical UDP/TCP idle timeouts are ≥ 30 s) and notices a
 * dead peer within 30 s, the same order as the 30 s keep-alive of the POST binding.
 */
export const CHANNEL_PING_MS = 15_000;
/** First redial delay after a kept channel was lost or a dial failed, ms. */
export const CHANNEL_REDIAL_MIN_MS = 1_000;
/** Longest redial delay, ms (doubling from the minimum): a peer that stays away costs one dial a minute. */
export const CHANNEL_REDIAL_MAX_MS = 60_000;
/** A channel that stayed open this long resets the redial backoff (a flapping peer keeps backing off), ms. */
export const CHANNEL_STABLE_MS = 30_000;
/**
 * A channel we dialled that lived this long and then broke is redialled at once (within
 * CHANNEL_QUICK_REDIAL_MS) instead of after the backoff: its loss may mean our address changed
 * (docs/PROTOCOL.md §15.5). Shorter-lived channels (a flapping peer) keep backing off, ms.
 */
export const CHANNEL_QUICK_REDIAL_AFTER_MS = 10_000;
/** Spread of that immediate redial, ms: random in [0, this), so peers that broke together do not redial in step. */
export const CHANNEL_QUICK_REDIAL_MS = 250;
/**
 * Time an open channel gets to answer a ping when the peer dialled a second one that lost to it by the
 * one-per-pair rule (the peer dials only when it holds no channel, so ours may be dead), ms. A live
 * channel answers in one round trip; a dead one is dropped, and the peer's next redial wins.
 */
export const CHANNEL_PROBE_MS = 2_000;
/**
 * The same when the peer's new channel would lose to ours by the pair rule, ms: shorter, as the
 * newcomer's HELLO has just proven it live, so even a slow channel of ours is no loss to replace.
 */
export const CHANNEL_RIVAL_PROBE_MS = 1_000;
/** Most open channels per node; like the 256 client pools of the POST binding, four times over for inbound. */
export const CHANNEL_MAX = 1024;
/** Most unanswered requests one peer may have on a channel; more are answered 429 at once. */
export const CHANNEL_MAX_INFLIGHT = 256;
/**
 * Most of our requests queued behind the in-flight window of one channel. Past this, requests go by
 * POST. 16,384 covers a burst of a second at full channel speed; the outbox keeps them durable anyway.
 */
export const CHANNEL_MAX_QUEUED = 16_384;
