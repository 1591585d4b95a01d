/**
 * The whole state of one node's core as plain data: records, maps and sets, no functions. Work in
 * flight (our requests awaiting an answer, searches, relays) is kept as records that name what
 * their answer continues, with deadlines, so the state can be inspected, cloned (`structuredClone`)
 * or persisted, and a core rebuilt from it carries on.
 */

import type { CoreConfig } from './config.ts';
import type { SendKind } from './events.ts';
import type { MessageType } from './messages.ts';
import { createSeenCache, type SeenCache } from './seen-cache.ts';
import type {
  ContactRecord,
  DeliveredRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  ReferralRecord,
  SelfRecord,
} from './types.ts';

/** Everything a core starts from (loaded from the Store, or built by the simulator). */
export interface CoreSnapshot {
  self: SelfRecord;
  /** Our own addresses "ip:port"; the first is the one we tell contacts. */
  addresses: string[];
  contacts: ContactRecord[];
  referrals: ReferralRecord[];
  invites: InviteRecord[];
  requests: PendingRequestRecord[];
  outbox: OutboxRecord[];
  /**
   * Messages already delivered to the application, by (from, id) with when they were received
   * (exactly-once across restarts; Store.listDelivered). Entries past the retention are swept.
   */
  deliveredIds: Iterable<DeliveredRecord>;
}

/** Who a request goes to: a contact (by uuid, authenticated with Mesh-Secret) or a stranger's address (signed). */
export type Via = { contact: string } | { address: string; domain: string | null };

/** The inbound request a later answer goes back to (a relay answers its upstream when downstream answers). */
export interface Upstream {
  requestId: number;
  /** The remote socket "ip:port" (reported back as `observed`). */
  remote: string;
  /** The request's Mesh-Id (signed into the answer). */
  meshId: string;
  /** The authenticated sender when it is a contact (answer with a proof), else null (answer signed). */
  sender: string | null;
  /** True when the request came over the sender's channel: the answer goes back on it, without a proof. */
  channel?: boolean;
}

/** What the answer to one of our requests continues (dispatched by `kind`, see answers.ts). */
export type Continuation =
  /** Presence announce to a contact; on failure maybe search for it. */
  | { kind: 'announce'; contact: string; searchOnFailure: boolean; digest?: string }
  /** A forwarded referral or withdrawal: the answer changes nothing. */
  | { kind: 'referral' }
  /** A chat message from the outbox. */
  | { kind: 'message'; id: string; contact: string }
  /** One target of a search (`meshId` tells this search from a later one with the same key). */
  | { kind: 'search'; key: string; meshId: string; via: Via }
  /** One downstream leg of a relay; `direct` = sent to the target itself. */
  | { kind: 'relay'; relayId: number; contact: string; direct: boolean }
  /** Our "dial me back" to a contact (§15); `nonce` names the check it belongs to. */
  | { kind: 'dialback-ask'; nonce: string; contact: string }
  /** The fresh connection we opened for a contact's "dial me back"; the ask waits at `upstream`. */
  | { kind: 'dialback-probe'; upstream: Upstream }
  /** §16: a request we carry between two contacts; its answer goes back to `upstream` as it is. */
  | { kind: 'forward'; upstream: Upstream }
  /** §16: our registration of an invite with an introducer (the answer changes nothing). */
  | { kind: 'introduce' }
  /** A punch `connect` (answered with the contact's candidates) or `sync` (docs/PROTOCOL.md §17). */
  | { kind: 'punch'; contact: string; attempt: string; op: 'connect' | 'sync'; sentAt: number };

/** Whether others can dial this node (DESIGN.md §7 `reachability`, docs/PROTOCOL.md §15). */
export type Reachability = 'public' | 'mapped' | 'private' | 'unknown';

/** A dial-back check of our own address in progress (§15). */
export interface DialbackCheck {
  nonce: string;
  /** The port we asked to be dialled at (the mapped external port or the listening port). */
  port: number;
  /** True when `port` is the router's mapped port (success means `mapped`, else `public`). */
  mapped: boolean;
  asked: number;
  /** Asks answered by the contact (it tried); failures of the ask itself are not counted. */
  answered: number;
  reached: boolean;
}

/** Where we are and whether we can be dialled (§15): all soft state, rebuilt after a restart. */
export interface NatState {
  /** Our local interface address with the listening port (what the runtime sees). */
  local: string | null;
  /** Latest report of each contact: the host it saw our requests come from. */
  observations: Map<string, { host: string; at: number }>;
  /** The public host the contacts agree on (or our local host when they saw that); null until known. */
  observedHost: string | null;
  /** The router's port mapping, external "ip:port" (UPnP-IGD / NAT-PMP), or null. */
  mapping: string | null;
  reachability: Reachability;
  /** Whether the address we advertise can be dialled by others. */
  dialable: boolean;
  check: DialbackCheck | null;
  /** When the last check started (re-checks after DIALBACK_RECHECK_MS). */
  lastCheck: number;
  /** Probes we are making for contacts right now (DIALBACK_MAX_IN_FLIGHT). */
  probes: number;
  /** What each contact said about its own address in its announces. */
  peers: Map<string, { addr: string | null; lan: string | null; dialable: boolean }>;
}

/** §16: how a request to a contact went or may go through a relay (a mutual contact). */
export interface RelayAttempt {
  /** The contact the request is for. */
  target: string;
  /** Mesh-Id of the request to the target (its answer's proof covers it). */
  meshId: string;
  /** The link key with the target (checks the target's answer inside the relay's). */
  linkKey: Uint8Array;
  /** The relay (a contact of ours) this attempt went through; null: sent directly. */
  via: string | null;
  /** The request as built for the target (headers with its Mesh-Secret, body), to send again another way. */
  type: MessageType;
  headers: Record<string, string>;
  body: Uint8Array;
  timeoutMs: number;
  /** Relays already asked for this request. */
  tried: string[];
  /** The failure of the direct attempt, reported if no relay gets through either. */
  directFailure: string | null;
}

/** One of our requests awaiting its answer. */
export interface OutstandingRequest {
  meshId: string;
  /** The contact it went to (null: a stranger's address). */
  contact: string | null;
  /** Link key to check the response proof (contacts); null = the continuation checks a signature. */
  linkKey: Uint8Array | null;
  /** When the host gives up on it (it reports `send-failed` TIMEOUT then). */
  deadline: number;
  then: Continuation;
  /** §16: set for requests to a contact without an open channel (may fall back to, or went through, a relay). */
  path?: RelayAttempt;
}

/** Why a search runs and what its good answer does. */
export type SearchPurpose =
  /** Find a contact whose address went stale (IP message); `maxHops` is the ring of this round. */
  | { kind: 'locate'; target: string; maxHops: number }
  /** `mesh add`: reach the inviter with our contact_req. */
  | { kind: 'add'; commandId: number; inviter: string; name?: string; hadTargets: boolean }
  /** Look `target`'s record up at our peers with a domain under its blinded `key` (directory.ts). */
  | { kind: 'directory'; target: string; key: string }
  /** `--bootstrap`: first contact with a peer with a domain. */
  | { kind: 'bootstrap'; commandId: number; address: string; domain: string | null };

/** A running search or routed request: targets asked in batches until one answers well. */
export interface SearchRecord {
  key: string;
  meshId: string;
  /** When the search began (relocation latency). */
  startedAt: number;
  type: MessageType;
  /** The JSON body sent to every target. */
  body: unknown;
  kind: SendKind;
  /** Targets not asked yet, in order. */
  queue: Via[];
  /** How many at the head of `queue` are digest hits, asked DIGEST_SEARCH_FANOUT at a time (issue 11). */
  narrow?: number;
  /** Request ids of the current batch still unanswered. */
  inFlight: number[];
  /** When the current batch times out. */
  deadline: number;
  purpose: SearchPurpose;
}

/** A relay waiting for a downstream answer to send upstream. */
export interface RelayRecord {
  id: number;
  upstream: Upstream;
  /** The uuid the relayed message is for. */
  to: string;
  /** Downstream request ids still unanswered. */
  pending: number[];
  deadline: number;
  /**
   * Set while a failed direct leg may still fall back to the contacts whose digest lists `to`
   * (issue 11: they may be its move anchors); cleared once used.
   */
  fallback?: { type: MessageType; body: Record<string, unknown>; meshId: string; from: string | null };
}

/** Counters of what happened: drops by reason, sends by kind, relocations. */
export type CoreStats = Record<string, number>;

/** The state of one core. */
export interface CoreState {
  /** Our address as we tell it to contacts (null until known). */
  address: string | null;
  started: boolean;
  /** The last host peers reported seeing us at (self:observed is emitted on change). */
  lastObserved: string | null;
  /** Observed address, reachability, port mapping, LAN (docs/PROTOCOL.md §15). */
  nat: NatState;
  contacts: Map<string, ContactRecord>;
  /** Referrals by referent. */
  referrals: Map<string, ReferralRecord[]>;
  invites: Map<string, InviteRecord>;
  /** Invites already used, kept so a retry of the same requester (answer lost) is answered again. */
  spentInvites: Map<string, { invite: InviteRecord; uuid: string }>;
  requests: Map<string, PendingRequestRecord>;
  outbox: Map<string, OutboxRecord>;
  /** Ids of queued messages per contact, so flushing one contact does not scan the whole outbox. */
  queued: Map<string, Set<string>>;
  /** Messages delivered to the application: deliveredKey(from, id) → receivedAt (pruned after the retention). */
  delivered: Map<string, number>;
  seen: SeenCache;
  outstanding: Map<number, OutstandingRequest>;
  nextRequestId: number;
  searches: Map<string, SearchRecord>;
  relays: Map<number, RelayRecord>;
  nextRelayId: number;
  /** When we last told our contacts about each contact (referral refresh). */
  lastReferralSent: Map<string, number>;
  /** Version of our digest each contact acknowledged (presence.ts): sent again only when it changed. */
  digestSent: Map<string, string>;
  /** When we last changed our own address, and the contacts that missed that announce (retried hourly). */
  moved: { at: number; missed: Set<string> } | null;
  /** A peer with a domain: directory records by blinded key, one per putter (handlers/directory.ts). */
  directory: Map<string, { putter: string; record: string; expiresAt: number }[]>;
  /** The address and last epoch we published a directory record for. */
  dirPublished: { address: string; epoch: number } | null;
  /** Contacts whose referral we withdrew (unreachable); re-announced when found again. */
  withdrawn: Set<string>;
  /** Fixed-window budget counters by key ("probe|<uuid>", "inbox|<uuid>"), see `tables.ts withinBudget`. */
  windows: Map<string, { start: number; count: number }>;
  stats: CoreStats;
  /** §16: peers (contacts or not) with an open channel to us now, told by the runtime (`channel` command). */
  channels: Set<string>;
  /** §16: contact → the mutual contact that last relayed for it (used until it fails or a channel opens). */
  relayVia: Map<string, string>;
  /** §16: relayed requests we handle as their target: inner request id (negative) → where the sealed answer goes. */
  relayInner: Map<number, { upstream: Upstream; from: string }>;
  nextInnerId: number;
  /** §16: invites of our contacts we introduce: invite id → inviter, expiry, requests forwarded so far. */
  introductions: Map<string, { inviter: string; expiresAt: number; used: number }>;
  /** §16.4 (introducer): requesters we introduced → their inviter and keys, while the invite lives. */
  introduced: Map<string, IntroducedPeer & { inviter: string }>;
  /** §16.4 (requester): our contact → the introducer that carried our request to it (a relay for the pair). */
  introducerRelays: Map<string, IntroducedPeer>;
  /** Hole punching per contact (docs/PROTOCOL.md §17): attempts in progress, failures, backoff. */
  punches: Map<string, PunchRecord>;
  /** Our punch port as a contact saw it on a channel we dialled from it ("ip:port"), latest first. */
  punchObserved: string | null;
}

/** A non-contact that relays for an introduced pair (§16.4): its keys and address, until `expiresAt`. */
export interface IntroducedPeer {
  uuid: string;
  signPub: Uint8Array;
  boxPub: Uint8Array;
  address: string;
  expiresAt: number;
}

/** Hole punching with one contact (in memory only: after a restart it starts afresh). */
export interface PunchRecord {
  /** The attempt in progress (ours or the contact's), or null. */
  attempt: string | null;
  /** We started it (sent `connect`) or answered it. */
  initiator: boolean;
  /** The contact's candidates (answered `connect`: waiting for `sync` until `deadline`). */
  remotes: string[];
  deadline: number;
  /** Failed attempts in a row (initiator side), for the backoff. */
  failures: number;
  /** No new attempt of ours before this. */
  notBefore: number;
  /** The last attempt opened a direct channel. */
  direct: boolean;
}

/** The state of a core starting from `snapshot`. */
export function createState(snapshot: CoreSnapshot, cfg: CoreConfig): CoreState {
  const state: CoreState = {
    address: snapshot.addresses[0] ?? null,
    started: false,
    lastObserved: null,
    nat: {
      local: snapshot.addresses[0] ?? null,
      observations: new Map(),
      observedHost: null,
      mapping: null,
      reachability: 'unknown',
      dialable: true,
      check: null,
      lastCheck: 0,
      probes: 0,
      peers: new Map(),
    },
    contacts: new Map(),
    referrals: new Map(),
    invites: new Map(),
    spentInvites: new Map(),
    requests: new Map(),
    outbox: new Map(),
    queued: new Map(),
    delivered: new Map(),
    seen: createSeenCache(cfg.seenCacheMax, 2 * cfg.replayWindowMs),
    outstanding: new Map(),
    nextRequestId: 1,
    searches: new Map(),
    relays: new Map(),
    nextRelayId: 1,
    lastReferralSent: new Map(),
    digestSent: new Map(),
    moved: null,
    directory: new Map(),
    dirPublished: null,
    withdrawn: new Set(),
    windows: new Map(),
    stats: {},
    channels: new Set(),
    relayVia: new Map(),
    relayInner: new Map(),
    nextInnerId: -1,
    introductions: new Map(),
    introduced: new Map(),
    introducerRelays: new Map(),
    punches: new Map(),
    punchObserved: null,
  };
  for (const d of snapshot.deliveredIds) state.delivered.set(deliveredKey(d.from, d.id), d.receivedAt);
  for (const c of snapshot.contacts) state.contacts.set(c.uuid, c);
  for (const r of snapshot.referrals) putReferralInMemory(state, r);
  for (const i of snapshot.invites) state.invites.set(i.id, i);
  for (const r of snapshot.requests) state.requests.set(r.uuid, r);
  // 'sent' is only meaningful inside one process: after a restart the message goes out again
  // (the receiver de-duplicates by message id).
  for (const m of snapshot.outbox) {
    const rec: OutboxRecord = m.state === 'sent' ? { ...m, state: 'queued' } : { ...m };
    state.outbox.set(rec.id, rec);
    indexOutbox(state, rec);
  }
  return state;
}

/**
 * The de-duplication key of a message: ids are chosen by each sender, so they are unique per sender
 * only (issue 12 #18: keyed by id alone, one contact could hide another's message by using its id first).
 */
export function deliveredKey(from: string, id: string): string {
  return JSON.stringify([from, id]);
}

/** Stores or replaces the referral (referent, via) in memory. */
export function putReferralInMemory(state: CoreState, r: ReferralRecord): void {
  let list = state.referrals.get(r.referent);
  if (!list) state.referrals.set(r.referent, (list = []));
  const i = list.findIndex((x) => x.via === r.via);
  if (i >= 0) list[i] = r;
  else list.push(r);
}

/** Keeps the per-contact queue index in step with a message's state. */
export function indexOutbox(state: CoreState, m: OutboxRecord): void {
  let set = state.queued.get(m.to);
  if (m.state === 'queued') {
    if (!set) state.queued.set(m.to, (set = new Set()));
    set.add(m.id);
  } else if (set) {
    set.delete(m.id);
    if (set.size === 0) state.queued.delete(m.to);
  }
}

/** How many messages wait in the outbox for a contact. */
export function queuedCount(state: CoreState, uuid: string): number {
  return state.queued.get(uuid)?.size ?? 0;
}
