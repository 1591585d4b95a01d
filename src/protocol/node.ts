/**
 * MeshCore: the pure protocol core. Events in, effects out; `now` and randomness passed in; no IO,
 * no timers, no clock. Real nodes (src/runtime), tests and the simulator (src/sim) all drive this
 * same class (docs/ARCHITECTURE.md).
 *
 *   const core = new MeshCore(snapshot, { random }, { port: 7575 }, now);
 *   const effects = core.handle({ type: 'command', commandId: 1, command: { kind: 'start' } }, now);
 */
import {
  checkProof,
  computeProof,
  deriveLinkKey,
  messageKey,
  requestSigningInput,
  responseSigningInput,
  signEd25519,
  toB64u,
} from '../crypto/index.ts';
import { MeshError, WIRE_ERRORS, type WireErrorCode } from '../errors.ts';
import {
  decodeBody,
  decodeHeaders,
  decodeResponse,
  encodeJson,
  errorBody,
  joinAddress,
  splitAddress,
} from './codec.ts';
import { type CoreConfig, type CoreInit, resolveConfig } from './config.ts';
import { PROTOCOL_VERSION } from './constants.ts';
import type { AppEvent, Command, CoreEvent, DropReason, Effect } from './events.ts';
import {
  acceptRequest,
  handleContactReq,
  rejectRequest,
  startAdd,
  startBootstrap,
} from './handlers/contact-request.ts';
import { inviteCommand, verifyStranger } from './handlers/first-contact.ts';
import { handleIp } from './handlers/ip.ts';
import { flushOutbox, handleMessage, queueMessage, retryOutbox } from './handlers/message.ts';
import { announceContactMoved, handleReferral, withdrawReferrals } from './handlers/referral.ts';
import { type Search, startSearch } from './handlers/search.ts';
import type { MessageType, OkResponse, RequestHeaders } from './messages.ts';
import { type RoutingView, usable } from './routing.ts';
import { SeenCache } from './seen-cache.ts';
import type {
  ContactRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  PersistOp,
  ReferralRecord,
  SelfRecord,
} from './types.ts';

/** How stale a persisted `lastSeen` may get before it is written again. */
const LAST_SEEN_PERSIST_MS = 60_000;

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

/** Injected parts of the core. */
export interface CoreComponents {
  /** Randomness: crypto-strong in real nodes, seeded in tests and the simulator. */
  random: (n: number) => Uint8Array;
}

/** An incoming request being handled (hop-level view). */
export interface InboundContext {
  requestId: number;
  remote: string;
  headers: RequestHeaders;
  body: Uint8Array;
  /** The authenticated sender if it is one of our contacts. */
  sender: ContactRecord | null;
  /** First contact: the sender's keys from Mesh-Pub-Key (signature checked). */
  stranger: { signPub: Uint8Array; boxPub: Uint8Array } | null;
}

/** Callbacks for one of our outgoing requests. */
export interface Outstanding {
  meshId: string;
  contact: ContactRecord | null;
  /** Link key to check the response proof (contacts); null = the handler checks a signature. */
  linkKey: Uint8Array | null;
  onOk(resp: OkResponse, now: number): void;
  onFail(code: string, message: string, now: number): void;
}

/** What to send: to a contact (authenticated with Mesh-Secret) or to a stranger's address (signed). */
export type SendTarget = { contact: ContactRecord } | { address: string; domain: string | null };

/** Counters of what happened: drops by reason and sends by kind. */
export type CoreStats = Record<string, number>;

/** The protocol core of one node. */
export class MeshCore implements RoutingView {
  readonly cfg: CoreConfig;
  readonly self: SelfRecord;
  readonly random: (n: number) => Uint8Array;
  /** Our address as we tell it to contacts (null until known). */
  address: string | null;
  readonly contactMap = new Map<string, ContactRecord>();
  readonly referralMap = new Map<string, ReferralRecord[]>();
  readonly invites = new Map<string, InviteRecord>();
  readonly requests = new Map<string, PendingRequestRecord>();
  readonly outbox = new Map<string, OutboxRecord>();
  readonly delivered = new Set<string>();
  readonly seen: SeenCache;
  readonly outstanding = new Map<number, Outstanding>();
  readonly searches = new Map<string, Search>();
  /** Relays waiting for a downstream answer, by timer id. */
  readonly relays = new Map<string, { finish(status: 'ok' | 'fail', resp?: OkResponse): void }>();
  /** When we last told our contacts about each contact (referral refresh). */
  readonly lastReferralSent = new Map<string, number>();
  /** Contacts whose referral we withdrew (unreachable); re-announced when found again. */
  readonly withdrawn = new Set<string>();
  /** Invites already used, kept in memory so a retry of the same requester (answer lost) is answered again. */
  readonly spentInvites = new Map<string, { invite: InviteRecord; uuid: string }>();
  readonly stats: CoreStats = {};
  #linkKeys = new Map<string, Uint8Array>();
  #msgKeys = new Map<string, Uint8Array>();
  #nextRequestId = 1;
  #nextTimer = 1;
  #fx: Effect[] = [];
  #now = 0;
  #lastObserved: string | null = null;
  #started = false;

  constructor(snapshot: CoreSnapshot, components: CoreComponents, init: CoreInit = {}, now = 0) {
    this.cfg = resolveConfig(init);
    this.self = snapshot.self;
    this.random = components.random;
    this.address = snapshot.addresses[0] ?? null;
    for (const c of snapshot.contacts) this.contactMap.set(c.uuid, c);
    for (const r of snapshot.referrals) this.#putReferralInMemory(r);
    for (const i of snapshot.invites) this.invites.set(i.id, i);
    for (const r of snapshot.requests) this.requests.set(r.uuid, r);
    // 'sent' is only meaningful inside one process: after a restart the message goes out again
    // (the receiver de-duplicates by message id).
    for (const m of snapshot.outbox) {
      const rec: OutboxRecord = m.state === 'sent' ? { ...m, state: 'queued' } : { ...m };
      this.outbox.set(rec.id, rec);
      this.indexOutbox(rec);
    }
    for (const id of snapshot.deliveredIds) this.delivered.add(id);
    this.seen = new SeenCache(this.cfg.seenCacheMax, 2 * this.cfg.replayWindowMs);
    this.#now = now;
  }

  // ---------------------------------------------------------------- entry point

  /** Feeds one event in; returns the effects to carry out, in order. */
  handle(event: CoreEvent, now: number): Effect[] {
    this.#now = now;
    this.#fx = [];
    switch (event.type) {
      case 'request':
        this.#onRequest(event.requestId, event.remote, event.headers, event.body);
        break;
      case 'response':
        this.#onResponse(event.requestId, event.status, event.body);
        break;
      case 'send-failed':
        this.#onSendFailed(event.requestId, event.reason);
        break;
      case 'timer':
        this.#onTimer(event.timerId);
        break;
      case 'command':
        this.#onCommand(event.commandId, event.command);
        break;
    }
    const fx = this.#fx;
    this.#fx = [];
    return fx;
  }

  /** The current time of the event being handled. */
  get now(): number {
    return this.#now;
  }

  // ---------------------------------------------------------------- RoutingView

  /** @inheritdoc */
  get selfUuid(): string {
    return this.self.uuid;
  }
  /** A contact by uuid. */
  contact(uuid: string): ContactRecord | undefined {
    return this.contactMap.get(uuid);
  }
  /** Referrals held for a referent. */
  referrals(referent: string): readonly ReferralRecord[] {
    return this.referralMap.get(referent) ?? [];
  }
  /** All contacts. */
  contacts(): Iterable<ContactRecord> {
    return this.contactMap.values();
  }

  /** Entries of state this node holds (contacts, referrals, cached ids, in-flight work): the simulator's state metric. */
  stateEntries(): number {
    let refs = 0;
    for (const l of this.referralMap.values()) refs += l.length;
    // Routing state only (contacts and referrals), comparable to a DHT's routing table + stored records;
    // the replay cache and in-flight requests measure recent traffic, not routing.
    return this.contactMap.size + refs;
  }

  /** A snapshot of the node's status for `mesh status`. */
  status(now: number): {
    uuid: string;
    address: string | null;
    contacts: { total: number; online: number };
    referrals: number;
    outbox: number;
  } {
    let online = 0;
    for (const c of this.contactMap.values()) if (this.isOnline(c, now)) online++;
    let refs = 0;
    for (const l of this.referralMap.values()) refs += l.filter((r) => r.expiresAt > now).length;
    let queued = 0;
    for (const m of this.outbox.values()) if (m.state === 'queued' || m.state === 'sent') queued++;
    return {
      uuid: this.self.uuid,
      address: this.address,
      contacts: { total: this.contactMap.size, online },
      referrals: refs,
      outbox: queued,
    };
  }

  /** Online = active and heard from within the online window. */
  isOnline(c: ContactRecord, now: number): boolean {
    return c.status === 'active' && c.lastSeen !== null && now - c.lastSeen <= this.cfg.announceIntervalMs + 5 * 60_000;
  }

  // ---------------------------------------------------------------- effect helpers (used by handlers)

  /** Queues an effect. */
  effect(e: Effect): void {
    this.#fx.push(e);
  }
  /** Records ops to persist (one `persist` effect per op batch). */
  persist(...ops: PersistOp[]): void {
    const last = this.#fx[this.#fx.length - 1];
    if (last && last.type === 'persist') last.ops.push(...ops);
    else this.#fx.push({ type: 'persist', ops });
  }
  /** Emits an application event. */
  emit(data: AppEvent): void {
    this.#fx.push({ type: 'emit', data });
  }
  /** Counts and reports a dropped input. */
  drop(reason: DropReason, detail?: string): void {
    this.stats[`drop:${reason}`] = (this.stats[`drop:${reason}`] ?? 0) + 1;
    this.#fx.push({ type: 'drop', reason, detail });
  }
  /** Sets (or replaces) a timer at absolute time `at`. */
  setTimer(timerId: string, at: number): void {
    this.#fx.push({ type: 'set-timer', timerId, at });
  }
  /** Clears a timer. */
  clearTimer(timerId: string): void {
    this.#fx.push({ type: 'clear-timer', timerId });
  }
  /** A fresh unique timer id with a prefix. */
  newTimerId(prefix: string): string {
    return `${prefix}:${this.#nextTimer++}`;
  }
  /** 16 random bytes in base64url: message ids, search ids. */
  newId(): string {
    return toB64u(this.random(16));
  }

  /** The link key with a contact (derived once, cached). */
  linkKey(c: ContactRecord): Uint8Array {
    let k = this.#linkKeys.get(c.uuid);
    if (!k) {
      k = deriveLinkKey(this.self.boxPriv, c.boxPub, c.secret, this.self.uuid, c.uuid);
      this.#linkKeys.set(c.uuid, k);
    }
    return k;
  }
  /** The directional message key for messages sent by `senderUuid` on the link with `c`. */
  messageKeyFor(c: ContactRecord, senderUuid: string): Uint8Array {
    const id = `${c.uuid}|${senderUuid}`;
    let k = this.#msgKeys.get(id);
    if (!k) {
      k = messageKey(this.linkKey(c), senderUuid);
      this.#msgKeys.set(id, k);
    }
    return k;
  }
  /** Forgets cached keys of a contact (its secret changed or it was removed). */
  forgetKeys(uuid: string): void {
    this.#linkKeys.delete(uuid);
    this.#msgKeys.delete(`${uuid}|${uuid}`);
    this.#msgKeys.delete(`${uuid}|${this.self.uuid}`);
  }

  /**
   * Sends a Mesh request. To a contact: Mesh-Secret under the link key, TLS pinned to its key.
   * To a stranger (first contact): Mesh-Pub-Key + Ed25519 signature. Returns the request id.
   */
  send(
    target: SendTarget,
    type: MessageType,
    body: unknown,
    kind: string,
    handlers: Omit<Outstanding, 'meshId' | 'contact' | 'linkKey'>,
    meshId?: string,
    timeoutMs?: number,
  ): number {
    const id = meshId ?? this.newId();
    const bytes = encodeJson(body);
    const ts = this.#now;
    const port = this.cfg.port;
    const input = requestSigningInput({
      version: PROTOCOL_VERSION,
      type,
      from: this.self.uuid,
      id,
      ts,
      port,
      body: bytes,
    });
    const headers: Record<string, string> = {
      'mesh-version': String(PROTOCOL_VERSION),
      'mesh-type': type,
      'mesh-from': this.self.uuid,
      'mesh-id': id,
      'mesh-ts': String(ts),
      'mesh-port': String(port),
    };
    let contact: ContactRecord | null = null;
    let address: string;
    let pin: { signPub?: Uint8Array; domain?: string } | undefined;
    if ('contact' in target) {
      contact = target.contact;
      address = contact.address ?? '';
      headers['mesh-secret'] = computeProof(this.linkKey(contact), input);
      pin = contact.domain ? { domain: contact.domain } : { signPub: contact.signPub };
    } else {
      address = target.address;
      const pub = new Uint8Array(64);
      pub.set(this.self.signPub, 0);
      pub.set(this.self.boxPub, 32);
      headers['mesh-pub-key'] = toB64u(pub);
      headers['mesh-signature'] = toB64u(signEd25519(this.self.signPriv, input));
      pin = target.domain ? { domain: target.domain } : undefined;
    }
    const requestId = this.#nextRequestId++;
    this.outstanding.set(requestId, {
      meshId: id,
      contact,
      linkKey: contact ? this.linkKey(contact) : null,
      ...handlers,
    });
    this.stats[`send:${kind}`] = (this.stats[`send:${kind}`] ?? 0) + 1;
    this.#fx.push({
      type: 'send',
      requestId,
      address,
      pin,
      headers,
      body: bytes,
      timeoutMs: timeoutMs ?? this.cfg.requestTimeoutMs,
      kind,
    });
    return requestId;
  }

  /** Answers an inbound request with 200 and proof (contacts) or signature (strangers). */
  respondOk(ctx: InboundContext, data?: string): void {
    const observed = ctx.remote;
    const input = responseSigningInput(ctx.headers.id, observed, data ?? '');
    const resp: OkResponse = { observed };
    if (ctx.sender) resp.secret = computeProof(this.linkKey(ctx.sender), input);
    else resp.signature = toB64u(signEd25519(this.self.signPriv, input));
    if (data !== undefined) resp.data = data;
    this.#fx.push({ type: 'respond', requestId: ctx.requestId, status: 200, body: encodeJson(resp) });
  }

  /** Answers with a wire error, and counts it as a drop. */
  respondError(requestId: number, code: WireErrorCode | 'BAD_SIGNATURE', message: string): void {
    const status = WIRE_ERRORS[code as WireErrorCode] ?? 400;
    if (code !== 'NOT_FOUND' && code !== 'RATE_LIMITED' && code !== 'INTERNAL' && code !== 'UNAVAILABLE')
      this.drop(code as DropReason, message);
    this.#fx.push({ type: 'respond', requestId, status, body: errorBody(code, message) });
  }

  // ---------------------------------------------------------------- contact state

  /** Persists a contact record after a change. */
  saveContact(c: ContactRecord): void {
    this.persist({ op: 'contact:put', contact: { ...c } });
  }

  /**
   * We heard from (or reached) a contact at `address`: update it (the onmessage chart's "IP changed?"),
   * tell other contacts by referral when it changed, and deliver what waits for it.
   */
  contactSeen(c: ContactRecord, address: string | null, spread = true): void {
    const wasInactive = c.status !== 'active';
    const previous = c.address;
    const changed = address !== null && address !== previous;
    if (c.status === 'pending') this.emit({ event: 'contact:added', uuid: c.uuid, name: c.name });
    const lastSaved = c.lastSeen ?? 0;
    c.lastSeen = this.#now;
    c.status = 'active';
    if (changed) {
      c.address = address;
      this.emit({ event: 'contact:address', uuid: c.uuid, address });
    }
    // lastSeen alone is persisted at most once a minute: a busy chat must not write the contact per message.
    if (changed || wasInactive || this.#now - lastSaved >= LAST_SEEN_PERSIST_MS) this.saveContact(c);
    if (wasInactive && c.address) this.emit({ event: 'contact:online', uuid: c.uuid, address: c.address });
    const search = this.searches.get(c.uuid);
    if (search && !search.done && (changed || wasInactive)) {
      // The contact reached us first ("send connect" beat the relayed answer): the search succeeded.
      if (c.address) this.relocated(c, c.uuid, search.key, c.address);
      search.finish(this, true);
    }
    // Referrals carry address changes only (a contact that merely came back at the same address needs
    // none), and only when the contact told us itself: a searcher that found it through others adds
    // nothing the contact's own announce did not already spread (the simulator measured the waste).
    // A referral we withdrew when we lost the contact is given again once we find it.
    const withdrawn = this.withdrawn.delete(c.uuid);
    if ((spread || withdrawn) && changed && previous !== null) announceContactMoved(this, c);
    if (wasInactive || changed) flushOutbox(this, c);
  }

  /** Ids of queued messages per contact, so flushing one contact does not scan the whole outbox. */
  readonly #queued = new Map<string, Set<string>>();

  /** Keeps the per-contact queue index in step with a message's state. */
  indexOutbox(m: OutboxRecord): void {
    let set = this.#queued.get(m.to);
    if (m.state === 'queued') {
      if (!set) this.#queued.set(m.to, (set = new Set()));
      set.add(m.id);
    } else if (set) {
      set.delete(m.id);
      if (set.size === 0) this.#queued.delete(m.to);
    }
  }

  /** Queued message ids for a contact (oldest first), if any. */
  queuedFor(uuid: string): ReadonlySet<string> | undefined {
    return this.#queued.get(uuid);
  }

  /** Records and announces that a search found contact `c` (`via`: who answered). */
  relocated(c: ContactRecord, via: string, searchId: string, address: string): void {
    const search = this.searches.get(c.uuid);
    this.stats.relocations = (this.stats.relocations ?? 0) + 1;
    if (search) this.stats.relocationMs = (this.stats.relocationMs ?? 0) + (this.#now - search.startedAt);
    this.emit({ event: 'relocated', uuid: c.uuid, address, via, searchId });
  }

  /** A direct attempt to reach a contact failed: mark it inactive ("deactivate"), withdraw referrals about it. */
  contactUnreachable(c: ContactRecord): void {
    if (c.status === 'active') {
      c.status = 'inactive';
      this.saveContact(c);
      this.emit({ event: 'contact:offline', uuid: c.uuid });
      withdrawReferrals(this, c);
    }
  }

  /** Stores or refreshes a referral (in memory and persisted). */
  putReferral(r: ReferralRecord): void {
    this.#putReferralInMemory(r);
    this.persist({ op: 'referral:put', referral: { ...r } });
  }

  /** Deletes a referral. */
  deleteReferral(referent: string, via: string): boolean {
    const list = this.referralMap.get(referent);
    if (!list) return false;
    const i = list.findIndex((r) => r.via === via);
    if (i < 0) return false;
    list.splice(i, 1);
    if (list.length === 0) this.referralMap.delete(referent);
    this.persist({ op: 'referral:delete', referent, via });
    return true;
  }

  #putReferralInMemory(r: ReferralRecord): void {
    let list = this.referralMap.get(r.referent);
    if (!list) this.referralMap.set(r.referent, (list = []));
    const i = list.findIndex((x) => x.via === r.via);
    if (i >= 0) list[i] = r;
    else list.push(r);
  }

  /** Our IP:PORT as a contact should store it, learnt from a request's socket and Mesh-Port. */
  addressFrom(ctx: InboundContext): string {
    // A peer with a domain is reached by its DNS name, whatever IP it speaks from.
    if (ctx.sender?.domain && ctx.sender.address) return ctx.sender.address;
    const { host } = splitAddress(ctx.remote);
    const port = ctx.headers.port ?? (ctx.sender?.address ? splitAddress(ctx.sender.address).port : this.cfg.port);
    return joinAddress(host, port);
  }

  // ---------------------------------------------------------------- inbound

  #onRequest(requestId: number, remote: string, rawHeaders: Record<string, string>, body: Uint8Array): void {
    const h = decodeHeaders(rawHeaders);
    if (!h.ok) return this.respondError(requestId, h.code, h.message);
    const headers = h.value;
    if (Math.abs(this.#now - headers.ts) > this.cfg.replayWindowMs)
      return this.respondError(
        requestId,
        'REPLAYED',
        'Mesh-Ts is outside the ±5 minute replay window; check your clock',
      );
    const replayKey = `${headers.from}|${headers.id}`;
    if (this.seen.has(replayKey, this.#now))
      return this.respondError(requestId, 'REPLAYED', 'this (Mesh-From, Mesh-Id) was already received');
    const decoded = decodeBody(headers.type, body);
    const input = requestSigningInput({
      version: headers.version,
      type: headers.type,
      from: headers.from,
      id: headers.id,
      ts: headers.ts,
      port: headers.port,
      body,
    });
    const sender = this.contactMap.get(headers.from) ?? null;
    const ctx: InboundContext = { requestId, remote, headers, body, sender: null, stranger: null };
    if (sender && headers.secret !== null) {
      // auth chart: recompute the proof with our copy of the secret → are equal?
      if (!checkProof(this.linkKey(sender), input, headers.secret))
        return this.respondError(requestId, 'BAD_SECRET', 'Mesh-Secret does not match our shared secret');
      ctx.sender = sender;
    } else if (headers.pubKey !== null && headers.signature !== null) {
      const stranger = verifyStranger(headers, input);
      if (!stranger)
        return this.respondError(requestId, 'BAD_SIGNATURE', 'Mesh-Signature or Mesh-Pub-Key does not match Mesh-From');
      if (sender) {
        // A contact that lost its secret? Keys must match; it is still not authenticated as the contact.
        if (toB64u(sender.signPub) !== toB64u(stranger.signPub))
          return this.respondError(requestId, 'BAD_SIGNATURE', 'key does not match the contact');
      }
      if (headers.type !== 'contact_req') {
        this.#unknownSender(ctx);
        return this.respondError(
          requestId,
          'UNKNOWN_SENDER',
          'you are not a contact of this node; send a contact request first',
        );
      }
      ctx.stranger = stranger;
    } else {
      this.#unknownSender(ctx);
      return this.respondError(requestId, 'UNKNOWN_SENDER', 'Mesh-From is not a contact of this node');
    }
    if (!decoded.ok) return this.respondError(requestId, decoded.code, decoded.message);
    this.seen.add(replayKey, this.#now);
    if (ctx.sender) this.contactSeen(ctx.sender, this.addressFrom(ctx));
    const m = decoded.value;
    switch (m.type) {
      case 'IP':
        return handleIp(this, ctx, m.body);
      case 'referral':
        return handleReferral(this, ctx, m.body);
      case 'message':
        return handleMessage(this, ctx, m.body);
      case 'contact_req':
        return handleContactReq(this, ctx, m.body);
    }
  }

  /**
   * onmessage "sender in peers? no → IP → remove IP → peers → try": a stranger speaks from the address
   * we hold for one of our contacts, so that contact is no longer there; look for it.
   */
  #unknownSender(ctx: InboundContext): void {
    const port = ctx.headers.port;
    if (port === null) return;
    const address = joinAddress(splitAddress(ctx.remote).host, port);
    for (const c of this.contactMap.values()) {
      if (c.address === address && c.uuid !== ctx.headers.from && c.status === 'active') {
        this.contactUnreachable(c);
        startSearch(this, c);
      }
    }
  }

  // ---------------------------------------------------------------- responses to our requests

  #onResponse(requestId: number, status: number, body: Uint8Array): void {
    const o = this.outstanding.get(requestId);
    if (!o) return this.drop('UNKNOWN_REQUEST', `response to unknown request ${requestId}`);
    this.outstanding.delete(requestId);
    const r = decodeResponse(status, body);
    if (!r.ok) {
      if (r.code === 'BAD_RESPONSE') this.drop('BAD_RESPONSE', r.message);
      return o.onFail(r.code, r.message, this.#now);
    }
    if (o.linkKey) {
      // auth chart, our side: the answer must carry the matching proof ("are equal? no → remove IP → fail").
      const input = responseSigningInput(o.meshId, r.value.observed, r.value.data ?? '');
      if (!r.value.secret || !checkProof(o.linkKey, input, r.value.secret)) {
        this.drop('BAD_SECRET', 'response proof does not match');
        return o.onFail('BAD_SECRET', 'response proof does not match', this.#now);
      }
    }
    this.#noteObserved(r.value.observed);
    o.onOk(r.value, this.#now);
  }

  /** Peers report the socket they saw; only its host matters (the port is our ephemeral source port). */
  #noteObserved(observed: string): void {
    const { host } = splitAddress(observed);
    if (host === this.#lastObserved) return;
    this.#lastObserved = host;
    this.emit({ event: 'self:observed', address: joinAddress(host, this.cfg.port) });
  }

  #onSendFailed(requestId: number, reason: string): void {
    const o = this.outstanding.get(requestId);
    if (!o) return;
    this.outstanding.delete(requestId);
    o.onFail(reason, reason, this.#now);
  }

  // ---------------------------------------------------------------- timers

  #onTimer(timerId: string): void {
    if (timerId === 'announce') {
      this.#announceAll(false);
      if (this.cfg.announceIntervalMs > 0) this.setTimer('announce', this.#now + this.cfg.announceIntervalMs);
      return;
    }
    if (timerId === 'outbox') return retryOutbox(this);
    if (timerId === 'sweep') return this.#sweep();
    const relay = this.relays.get(timerId);
    if (relay) return relay.finish('fail');
    const colon = timerId.indexOf(':');
    if (timerId.slice(0, colon) === 'search') {
      const s = this.searches.get(timerId.slice(colon + 1));
      if (s && !s.done) s.timeout(this);
    }
  }

  #sweep(): void {
    const now = this.#now;
    this.seen.sweep(now);
    for (const [referent, list] of [...this.referralMap]) {
      for (const r of [...list]) if (r.expiresAt <= now) this.deleteReferral(referent, r.via);
    }
    for (const inv of [...this.invites.values()]) {
      if (inv.expiresAt <= now) {
        this.invites.delete(inv.id);
        this.persist({ op: 'invite:delete', id: inv.id });
      }
    }
    for (const [id, spent] of [...this.spentInvites]) if (spent.invite.expiresAt <= now) this.spentInvites.delete(id);
    for (const req of [...this.requests.values()]) {
      if (now - req.receivedAt > 7 * 24 * 3600_000) {
        this.requests.delete(req.uuid);
        this.persist({ op: 'request:delete', uuid: req.uuid });
      }
    }
    this.setTimer('sweep', now + 10 * 60_000);
  }

  // ---------------------------------------------------------------- commands

  /** Answers a command. */
  result(commandId: number, value: unknown): void {
    this.#fx.push({ type: 'result', commandId, ok: true, value });
  }
  /** Fails a command with a code and a sentence that says what to do. */
  fail(commandId: number, code: string, message: string): void {
    this.#fx.push({ type: 'result', commandId, ok: false, code, message });
  }

  #onCommand(commandId: number, cmd: Command): void {
    try {
      switch (cmd.kind) {
        case 'start':
          this.#started = true;
          this.#announceAll(true);
          retryOutbox(this);
          if (this.cfg.announceIntervalMs > 0) this.setTimer('announce', this.#now + this.cfg.announceIntervalMs);
          this.setTimer('sweep', this.#now + 10 * 60_000);
          return this.result(commandId, { uuid: this.self.uuid });
        case 'address': {
          const next = cmd.addresses[0] ?? null;
          const changed = next !== this.address;
          this.address = next;
          if (changed && this.#started) this.#announceAll(true);
          return this.result(commandId, { address: this.address, changed });
        }
        case 'send':
          return this.result(commandId, { id: queueMessage(this, cmd.to, cmd.text) });
        case 'invite':
          return this.result(commandId, inviteCommand(this, cmd.ttlMs, cmd.addresses, cmd.domain ?? null));
        case 'add':
          return startAdd(this, commandId, cmd.code, cmd.name);
        case 'bootstrap':
          return startBootstrap(this, commandId, cmd.address, cmd.domain);
        case 'accept':
          return this.result(commandId, acceptRequest(this, cmd.uuid));
        case 'reject':
          return this.result(commandId, rejectRequest(this, cmd.uuid));
      }
    } catch (e) {
      if (e instanceof MeshError) return this.fail(commandId, e.code, e.message);
      throw e;
    }
  }

  /**
   * sendmessage chart on "Program start" and "IP change": try each contact at its associated IP
   * (a presence referral, hops 0). A failure deactivates the contact and, on start / IP change,
   * searches for it through the other contacts.
   */
  #announceAll(searchOnFailure: boolean): void {
    for (const c of [...this.contactMap.values()]) {
      if (c.status === 'pending' || c.address === null) continue;
      // A contact we already failed to reach is tried again only when a message waits for it; it
      // finds us itself when it comes back (its stale address for us fails and it searches).
      if (c.status !== 'active' && (!searchOnFailure || !this.queuedFor(c.uuid)?.size)) continue;
      this.announceTo(c, searchOnFailure);
    }
  }

  /** Sends our presence to one contact ("send connect"). */
  announceTo(c: ContactRecord, searchOnFailure: boolean): void {
    if (!usable(c)) return;
    this.send({ contact: c }, 'referral', { referent: this.self.uuid, hops: 0 }, 'announce', {
      onOk: () => this.contactSeen(c, c.address),
      onFail: (code) => {
        if (code === 'REPLAYED' || code === 'DUPLICATE') return;
        this.contactUnreachable(c);
        // Search only when something waits for it: an offline contact cannot be found anyway, and it
        // finds us when it comes back (the simulator: searching for every offline contact on start
        // cost ~900 messages per node at 30% offline).
        if (searchOnFailure && (this.queuedFor(c.uuid)?.size ?? 0) > 0) startSearch(this, c);
      },
    });
  }
}
