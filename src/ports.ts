/**
 * Ports: the interfaces the runtime and simulator plug adapters into (DESIGN.md §9).
 * The protocol core itself uses none of them; it only returns effects.
 */

import type { TransportErrorCode } from './errors.ts';
import type { PinSpec } from './protocol/events.ts';
import type {
  ContactRecord,
  DeliveredRecord,
  InboxRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  PersistOp,
  ReferralRecord,
  SelfRecord,
} from './protocol/types.ts';

export type { PinSpec };

/** Persistent state of one node. Synchronous: both adapters (memory, better-sqlite3) are. */
export interface Store {
  getSelf(): SelfRecord | null;
  listContacts(): ContactRecord[];
  listReferrals(): ReferralRecord[];
  listInvites(): InviteRecord[];
  listRequests(): PendingRequestRecord[];
  listOutbox(): OutboxRecord[];
  /** Received messages, oldest first; `since` = receivedAt > since; `limit` keeps the newest N. */
  listInbox(opts?: { since?: number; limit?: number }): InboxRecord[];
  /** True if the inbox holds message `id` from contact `from` (ids are unique per sender only). */
  hasInbox(from: string, id: string): boolean;
  /**
   * The de-duplication memory: (from, id, receivedAt) of every inbox row and of cleared rows not yet
   * pruned (`delivered:prune`), oldest first. The core loads it so a restart delivers nothing twice.
   */
  listDelivered(): DeliveredRecord[];
  /**
   * Deletes inbox rows received before `before` (all when null) and returns how many; their
   * (from, id) stay in the de-duplication memory until pruned, so clearing lets no retry in twice.
   */
  clearInbox(before: number | null): number;
  /** Applies all ops atomically (one transaction), in order. */
  apply(ops: PersistOp[]): void;
  close(): void;
}

/** An incoming Mesh request as the transport received it. */
export interface InboundRequest {
  /** Remote socket address as seen by us, "ip:port" (the port is the remote's ephemeral one). */
  remote: string;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** What the node answers; the transport writes it as the HTTP response. */
export interface OutboundResponse {
  status: number;
  body: Uint8Array;
}

/** Outgoing request to another node. */
export interface OutboundRequest {
  /** "ip:port" or "domain:port". */
  address: string;
  headers: Record<string, string>;
  body: Uint8Array;
  pin?: PinSpec;
  timeoutMs: number;
  /** Use a new connection: not the channel, not a pooled keep-alive one (a dial-back probe, PROTOCOL.md §15). */
  fresh?: boolean;
}

/** Answer to an outbound request: any HTTP status (errors carry the JSON error body). */
export interface InboundResponse {
  status: number;
  body: Uint8Array;
  /** The authenticated peer when the request and its answer went over a channel; absent/null for POST. */
  channel?: ChannelPeer | null;
}

/** Thrown (rejected) by Transport.request when no HTTP answer came: connection refused, timeout, TLS pin mismatch. */
export class TransportError extends Error {
  constructor(
    readonly code: TransportErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'TransportError';
  }
}

/** Handler a transport calls for each valid-looking request on the Mesh path. */
export type RequestHandler = (req: InboundRequest) => Promise<OutboundResponse>;

/** Moves Mesh requests between nodes (https, memory). Routing never depends on how bytes move. */
export interface Transport {
  /** Starts serving; resolves with the bound "ip:port". */
  listen(handler: RequestHandler): Promise<string>;
  request(req: OutboundRequest): Promise<InboundResponse>;
  close(): Promise<void>;
  /** What the transport refused on its own (connection budgets…), by drop reason; merged into the node's `drops`. */
  drops?(): Record<string, number>;
}

/** Clock port: the runtime uses Date.now(); the simulator a virtual clock. */
export interface Clock {
  now(): number;
}

/** Randomness port: crypto-strong in real nodes, seeded in tests and the simulator. */
export interface Random {
  bytes(n: number): Uint8Array;
}

/** Logger port (pino-compatible subset). The core never logs. */
export interface Logger {
  debug(obj: unknown, msg?: string): void;
  info(obj: unknown, msg?: string): void;
  warn(obj: unknown, msg?: string): void;
  error(obj: unknown, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

// ---- Channel binding (issue 9, docs/PROTOCOL.md §13) -------------------------------------------------

/** The authenticated identity at the other end of a channel (proven by its HELLO, bound to the TLS session). */
export interface ChannelPeer {
  /** Ed25519 identity key. */
  signPub: Uint8Array;
  /** X25519 key. */
  boxPub: Uint8Array;
  /** deriveUuid(signPub, boxPub). */
  uuid: string;
}

/** Declaration merge: a request that came over a channel names the channel's authenticated peer (null for POST). */
export interface InboundRequest {
  /** Set by transports with a channel binding; absent or null for a POST. */
  channel?: ChannelPeer | null;
}

/**
 * Emitted when a channel opens (after the one-per-pair rule picked it) or an open channel closes; and
 * `channel:unreached` when a dial of ours to a kept peer failed (no connection, TLS or HELLO).
 */
export type ChannelEvent =
  | { type: 'channel:open'; peer: ChannelPeer; remote: string; dialled: boolean }
  | { type: 'channel:close'; peer: ChannelPeer; remote: string; dialled: boolean; code: number; reason: string }
  | { type: 'channel:unreached'; signPub: Uint8Array; remote: string };

/** A Transport that also carries persistent channels; `request()` uses an open channel to the pinned peer, else POST. */
export interface ChannelTransport extends Transport {
  /** True when the binding is on (the transport was given the identity's box key); else POST only. */
  readonly channelsEnabled: boolean;
  /** Keeps a channel to the peer at `address` holding `pin.signPub` open: dials now, redials with backoff on loss. */
  keepChannel(address: string, pin: { signPub: Uint8Array }): void;
  /** Stops keeping the channel to `signPub` and closes it (code 1000). */
  releaseChannel(signPub: Uint8Array): void;
  /** The peer of the open channel to `signPub`, or null. */
  channelTo(signPub: Uint8Array): ChannelPeer | null;
  /** Subscribes to channel events; returns the unsubscribe function. */
  onChannel(listener: (event: ChannelEvent) => void): () => void;
  /**
   * Says which channel peers are trusted (the node's contacts): their requests skip the per-IP rate
   * limit and are held to a per-peer budget by backpressure instead. Others stay under the per-IP limit.
   */
  trustChannels(trusted: (peer: ChannelPeer) => boolean): void;
  /**
   * Says which `Mesh-From` uuids are contacts: their POSTs with Mesh-Secret skip the per-IP limit
   * and wait for a per-contact budget instead (a failed authentication counts against the IP).
   */
  trustSenders(trusted: (uuid: string) => boolean): void;
  /**
   * Our local interface address changed (another network, docs/PROTOCOL.md §15.5): every connection
   * from the old address is dead without a word. Drops channels and pooled connections at once and
   * redials the kept channels from the new address.
   */
  networkChanged(): void;
  /**
   * Pings the oldest channel we dialled to a public address and drops it unless answered soon: behind
   * a NAT without a mapping, a new WAN address shows as that channel's reset (§15.5). False when none.
   */
  probeChannel(): boolean;
}

/** True when `t` carries channels (HTTPS or memory given the identity's boxPub). */
export function isChannelTransport(t: Transport): t is ChannelTransport {
  return (t as Partial<ChannelTransport>).channelsEnabled === true;
}

/** What a hole punch needs (docs/PROTOCOL.md §17.4); see src/transport/https/punch.ts. */
export interface PunchRequest {
  /** The punch port to connect from (never the listening port). */
  localPort: number;
  /** The contact's candidate endpoint "ip:port". */
  remote: string;
  /** `client` runs the TLS client and dials the channel; `server` serves TLS on the socket. */
  role: 'client' | 'server';
  /** The contact's identity key (pin and HELLO). */
  signPub: Uint8Array;
  /** First SYN at this time (epoch ms). */
  startAt?: number;
  /** Budget of the whole attempt, ms. */
  timeoutMs?: number;
}

/** A transport that can open a channel by TCP simultaneous open (HTTPS; the memory model). */
export interface PunchTransport {
  /** Resolves once the channel to `signPub` over the punched connection is open; rejects with a TransportError. */
  punch(o: PunchRequest): Promise<{ peer: ChannelPeer; remote: string }>;
}

/** True when `t` can punch. */
export function canPunch(t: Transport): t is Transport & PunchTransport {
  return typeof (t as Partial<PunchTransport>).punch === 'function';
}
