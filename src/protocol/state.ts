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
  /** Ids of messages already delivered to the application (exactly-once across restarts). */
  deliveredIds: Iterable<string>;
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
  | { kind: 'relay'; relayId: number; contact: string; direct: boolean };

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
  /** Ids of messages delivered to the application. */
  delivered: Set<string>;
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
}

/** The state of a core starting from `snapshot`. */
export function createState(snapshot: CoreSnapshot, cfg: CoreConfig): CoreState {
  const state: CoreState = {
    address: snapshot.addresses[0] ?? null,
    started: false,
    lastObserved: null,
    contacts: new Map(),
    referrals: new Map(),
    invites: new Map(),
    spentInvites: new Map(),
    requests: new Map(),
    outbox: new Map(),
    queued: new Map(),
    delivered: new Set(snapshot.deliveredIds),
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
  };
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
