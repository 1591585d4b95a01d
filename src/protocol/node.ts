/**
 * MeshCore: the pure protocol core. Events in, effects out; `now` and randomness passed in; no IO,
 * no timers, no clock. Real nodes (src/runtime), tests and the simulator (src/sim) all drive this
 * same class (docs/ARCHITECTURE.md). Its state is plain data (`core.state`, state.ts); the handlers
 * see the core only through the `CoreContext` interface (context.ts), which this class implements.
 *
 *   const core = new MeshCore(snapshot, { random }, { port: 7575 }, now);
 *   const effects = core.handle({ type: 'command', commandId: 1, command: { kind: 'start' } }, now);
 */
import { signEd25519, toB64u } from '../crypto/index.ts';
import { type DropReason, isDropReason, type MeshErrorCode, WIRE_ERRORS, type WireErrorCode } from '../errors.ts';
import { onResponse, onSendFailed } from './answers.ts';
import { encodeJson, errorBody } from './codec.ts';
import { runCommand } from './commands.ts';
import { type CoreConfig, type CoreInit, resolveConfig } from './config.ts';
import { ONLINE_GRACE_MS, PROTOCOL_VERSION } from './constants.ts';
import type { CoreContext, SendTarget } from './context.ts';
import { type CoreCrypto, REAL_CRYPTO } from './core-crypto.ts';
import { DigestCache } from './digest-cache.ts';
import type { AppEvent, CoreEvent, Effect, SendKind } from './events.ts';
import { startDialback } from './handlers/dialback.ts';
import { startSearch } from './handlers/locate.ts';
import { flushOutbox, retryOutbox } from './handlers/message.ts';
import { chosenRelay, directPath, sealInnerAnswers, sendViaRelay } from './handlers/path.ts';
import { announceAll, announceTo, contactSeen, contactUnreachable } from './handlers/presence.ts';
import { punchResult } from './handlers/punch.ts';
import { relayTimedOut } from './handlers/relay.ts';
import { searchTimedOut, startRouted } from './handlers/search.ts';
import { onRequest } from './inbound.ts';
import type { MessageType, OkResponse } from './messages.ts';
import { maybeRecheck } from './observed.ts';
import type { RoutingView } from './routing.ts';
import {
  type Continuation,
  type CoreSnapshot,
  type CoreState,
  type CoreStats,
  createState,
  type RelayAttempt,
  type SearchRecord,
  type Upstream,
} from './state.ts';
import { sweep } from './tables.ts';
import type { TimerId } from './timers.ts';
import type {
  ContactRecord,
  InviteRecord,
  OutboxRecord,
  PendingRequestRecord,
  PersistOp,
  ReferralRecord,
  SelfRecord,
} from './types.ts';

export type { InboundContext } from './context.ts';
export type { CoreSnapshot, CoreStats, SendTarget };

/** Injected parts of the core. */
export interface CoreComponents {
  /** Randomness: crypto-strong in real nodes, seeded in tests and the simulator. */
  random: (n: number) => Uint8Array;
  /** Keyed primitives. @default REAL_CRYPTO (a stand-in is for the simulator only, core-crypto.ts) */
  crypto?: CoreCrypto;
}

/** The protocol core of one node. */
export class MeshCore implements CoreContext, RoutingView {
  readonly cfg: CoreConfig;
  readonly self: SelfRecord;
  readonly random: (n: number) => Uint8Array;
  readonly crypto: CoreCrypto;
  /** All of the node's protocol state, as plain data (see state.ts). */
  readonly state: CoreState;
  // Derived keys: a cache, not state (a rebuilt core derives them again). Created on first use: a
  // simulator holds 10⁶ cores, and an empty Map costs ~180 bytes.
  #linkKeys: Map<string, Uint8Array> | null = null;
  #msgKeys: Map<string, Uint8Array> | null = null;
  /** Digests (ours and our contacts'): derived data, not state. */
  readonly digests: DigestCache;
  #fx: Effect[] = [];
  #now = 0;

  /**
   * A core from a snapshot of the Store, or (`state`) from the state of an earlier core, e.g. a
   * `structuredClone` of it: the rebuilt core carries on with the same requests, searches and relays.
   */
  constructor(snapshot: CoreSnapshot, components: CoreComponents, init: CoreInit = {}, now = 0, state?: CoreState) {
    this.cfg = resolveConfig(init);
    this.self = snapshot.self;
    this.random = components.random;
    this.crypto = components.crypto ?? REAL_CRYPTO;
    this.state = state ?? createState(snapshot, this.cfg);
    this.digests = new DigestCache(this.self);
    this.#now = now;
  }

  // ---------------------------------------------------------------- entry point

  /** Feeds one event in; returns the effects to carry out, in order. */
  handle(event: CoreEvent, now: number): Effect[] {
    this.#now = now;
    this.#fx = [];
    switch (event.type) {
      case 'request':
        onRequest(this, event.requestId, event.remote, event.headers, event.body, event.channel ?? null);
        break;
      case 'response':
        onResponse(this, event.requestId, event.status, event.body, event.channel ?? null);
        break;
      case 'send-failed':
        onSendFailed(this, event.requestId, event.reason);
        break;
      case 'timer':
        this.#onTimer(event.timer);
        break;
      case 'command':
        runCommand(this, event.commandId, event.command);
        break;
      case 'punch-result':
        punchResult(this, event.uuid, event.attempt, event.ok, event.reason);
        break;
    }
    const fx = this.#fx;
    this.#fx = [];
    return this.state.relayInner.size > 0 ? sealInnerAnswers(this, fx) : fx;
  }

  /** The current time of the event being handled. */
  get now(): number {
    return this.#now;
  }

  // ---------------------------------------------------------------- views of the state

  /** @inheritdoc */
  get selfUuid(): string {
    return this.self.uuid;
  }
  /** A contact by uuid. */
  contact(uuid: string): ContactRecord | undefined {
    return this.state.contacts.get(uuid);
  }
  /** Referrals held for a referent. */
  referrals(referent: string): readonly ReferralRecord[] {
    return this.state.referrals.get(referent) ?? [];
  }
  /** All contacts. */
  contacts(): Iterable<ContactRecord> {
    return this.state.contacts.values();
  }
  /** True when contact `c`'s digest lists `uuid` (digests switched off: never). */
  digestLists(c: ContactRecord, uuid: string): boolean {
    return this.cfg.digests && this.digests.lists(c, uuid);
  }
  /** Contacts by uuid (the state's table). */
  get contactMap(): Map<string, ContactRecord> {
    return this.state.contacts;
  }
  /** Referrals by referent (the state's table). */
  get referralMap(): Map<string, ReferralRecord[]> {
    return this.state.referrals;
  }
  /** Pending contact requests by uuid. */
  get requests(): Map<string, PendingRequestRecord> {
    return this.state.requests;
  }
  /** Invites we issued, by id. */
  get invites(): Map<string, InviteRecord> {
    return this.state.invites;
  }
  /** The outbox by message id. */
  get outbox(): Map<string, OutboxRecord> {
    return this.state.outbox;
  }
  /** Running searches by key. */
  get searches(): Map<string, SearchRecord> {
    return this.state.searches;
  }
  /** Counters: drops by reason, sends by kind, relocations. */
  get stats(): CoreStats {
    return this.state.stats;
  }
  /** Our address as we tell it to contacts (null until known). */
  get address(): string | null {
    return this.state.address;
  }

  /** Entries of state this node holds (contacts, referrals, cached ids, in-flight work): the simulator's state metric. */
  stateEntries(): number {
    let refs = 0;
    for (const l of this.state.referrals.values()) refs += l.length;
    // Routing state only (contacts and referrals), comparable to a DHT's routing table + stored records;
    // the replay cache and in-flight requests measure recent traffic, not routing.
    return this.state.contacts.size + refs;
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
    for (const c of this.state.contacts.values()) if (this.isOnline(c, now)) online++;
    let refs = 0;
    for (const l of this.state.referrals.values()) refs += l.filter((r) => r.expiresAt > now).length;
    let queued = 0;
    for (const m of this.state.outbox.values()) if (m.state === 'queued' || m.state === 'sent') queued++;
    return {
      uuid: this.self.uuid,
      address: this.state.address,
      contacts: { total: this.state.contacts.size, online },
      referrals: refs,
      outbox: queued,
    };
  }

  /** Online = active and heard from within one announce interval plus a grace. */
  isOnline(c: ContactRecord, now: number): boolean {
    return (
      c.status === 'active' && c.lastSeen !== null && now - c.lastSeen <= this.cfg.announceIntervalMs + ONLINE_GRACE_MS
    );
  }

  // ---------------------------------------------------------------- CoreContext: effects

  /** @inheritdoc */
  effect(e: Effect): void {
    this.#fx.push(e);
  }
  /** @inheritdoc */
  persist(...ops: PersistOp[]): void {
    const last = this.#fx[this.#fx.length - 1];
    if (last && last.type === 'persist') last.ops.push(...ops);
    else this.#fx.push({ type: 'persist', ops });
  }
  /** @inheritdoc */
  emit(data: AppEvent): void {
    this.#fx.push({ type: 'emit', data });
  }
  /** @inheritdoc */
  drop(reason: DropReason, detail?: string): void {
    const stats = this.state.stats;
    stats[`drop:${reason}`] = (stats[`drop:${reason}`] ?? 0) + 1;
    this.#fx.push({ type: 'drop', reason, detail });
  }
  /** @inheritdoc */
  setTimer(timer: TimerId, at: number): void {
    this.#fx.push({ type: 'set-timer', timer, at });
  }
  /** @inheritdoc */
  clearTimer(timer: TimerId): void {
    this.#fx.push({ type: 'clear-timer', timer });
  }
  /** @inheritdoc */
  result(commandId: number, value: unknown): void {
    this.#fx.push({ type: 'result', commandId, ok: true, value });
  }
  /** @inheritdoc */
  fail(commandId: number, code: MeshErrorCode, message: string): void {
    this.#fx.push({ type: 'result', commandId, ok: false, code, message });
  }
  /** @inheritdoc */
  newId(): string {
    return toB64u(this.random(16));
  }

  /**
   * @inheritdoc
   * To a contact: Mesh-Secret under the link key, TLS pinned to its key. To a stranger (first
   * contact): Mesh-Pub-Key + Ed25519 signature.
   */
  send(
    target: SendTarget,
    type: MessageType,
    body: unknown,
    kind: SendKind,
    then: Continuation,
    meshId?: string,
    timeoutMs?: number,
    reuse?: { requestId: number; path: RelayAttempt },
  ): number {
    const id = meshId ?? this.newId();
    const bytes = encodeJson(body);
    const ts = this.#now;
    const port = this.cfg.port;
    const input = this.crypto.requestSigningInput({
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
    let fresh = false;
    if ('contact' in target) {
      contact = target.contact;
      address = target.at ?? contact.address ?? '';
      fresh = target.fresh === true;
      headers['mesh-secret'] = this.crypto.computeProof(this.linkKey(contact), input);
      pin = contact.domain ? { domain: contact.domain } : { signPub: contact.signPub };
    } else {
      address = target.address;
      const pub = new Uint8Array(64);
      pub.set(this.self.signPub, 0);
      pub.set(this.self.boxPub, 32);
      headers['mesh-pub-key'] = toB64u(pub);
      headers['mesh-signature'] = toB64u(signEd25519(this.self.signPriv, input));
      pin = target.signPub ? { signPub: target.signPub } : target.domain ? { domain: target.domain } : undefined;
    }
    const requestId = reuse?.requestId ?? this.state.nextRequestId++;
    const timeout = timeoutMs ?? this.cfg.requestTimeoutMs;
    // §16: a request to a contact without a channel may go (or fall back) through a mutual contact.
    const path =
      reuse?.path ??
      (contact && type !== 'relay' ? directPath(this, contact, type, id, headers, bytes, timeout) : undefined);
    const relay = !reuse && path && contact ? chosenRelay(this, contact) : null;
    if (relay && path) {
      sendViaRelay(this, requestId, then, path, relay);
      return requestId;
    }
    this.state.outstanding.set(requestId, {
      meshId: id,
      contact: contact?.uuid ?? null,
      linkKey: contact ? this.linkKey(contact) : null,
      deadline: ts + timeout,
      then,
      ...(path ? { path } : {}),
    });
    const stats = this.state.stats;
    stats[`send:${kind}`] = (stats[`send:${kind}`] ?? 0) + 1;
    const effect: Effect = { type: 'send', requestId, address, pin, headers, body: bytes, timeoutMs: timeout, kind };
    if (fresh) effect.fresh = true;
    this.#fx.push(effect);
    return requestId;
  }

  /** @inheritdoc */
  respondOk(to: Upstream, data?: string): void {
    this.#fx.push({ type: 'respond', requestId: to.requestId, status: 200, body: this.okBody(to, data) });
  }

  /** @inheritdoc */
  okBody(to: Upstream, data?: string): Uint8Array {
    const observed = to.remote;
    const resp: OkResponse = { observed };
    const sender = to.sender === null ? undefined : this.state.contacts.get(to.sender);
    // On the sender's own channel the HELLOs already proved both ends: the answer carries no proof.
    if (!(sender && to.channel)) {
      const input = this.crypto.responseSigningInput(to.meshId, observed, data ?? '');
      if (sender) resp.secret = this.crypto.computeProof(this.linkKey(sender), input);
      else resp.signature = toB64u(signEd25519(this.self.signPriv, input));
    }
    if (data !== undefined) resp.data = data;
    return encodeJson(resp);
  }

  /** @inheritdoc */
  respondError(requestId: number, code: WireErrorCode, message: string): void {
    if (isDropReason(code)) this.drop(code, message);
    this.#fx.push({ type: 'respond', requestId, status: WIRE_ERRORS[code], body: errorBody(code, message) });
  }

  // ---------------------------------------------------------------- CoreContext: keys

  /** @inheritdoc */
  linkKey(c: ContactRecord): Uint8Array {
    this.#linkKeys ??= new Map();
    let k = this.#linkKeys.get(c.uuid);
    if (!k) {
      k = this.crypto.deriveLinkKey(this.self.boxPriv, c.boxPub, c.secret, this.self.uuid, c.uuid);
      this.#linkKeys.set(c.uuid, k);
    }
    return k;
  }
  /** @inheritdoc */
  messageKeyFor(c: ContactRecord, senderUuid: string): Uint8Array {
    const id = `${c.uuid}|${senderUuid}`;
    this.#msgKeys ??= new Map();
    let k = this.#msgKeys.get(id);
    if (!k) {
      k = this.crypto.messageKey(this.linkKey(c), senderUuid);
      this.#msgKeys.set(id, k);
    }
    return k;
  }
  /** @inheritdoc */
  forgetKeys(uuid: string): void {
    this.#linkKeys?.delete(uuid);
    this.#msgKeys?.delete(`${uuid}|${uuid}`);
    this.#msgKeys?.delete(`${uuid}|${this.self.uuid}`);
    this.digests.forget(uuid);
  }

  // ---------------------------------------------------------------- CoreContext: shared protocol steps

  /** @inheritdoc */
  contactSeen(c: ContactRecord, address: string | null, spread = true): void {
    contactSeen(this, c, address, spread);
  }
  /** @inheritdoc */
  contactUnreachable(c: ContactRecord): void {
    contactUnreachable(this, c);
  }
  /** @inheritdoc */
  announceTo(c: ContactRecord, searchOnFailure: boolean): void {
    announceTo(this, c, searchOnFailure);
  }
  /** @inheritdoc */
  startSearch(target: ContactRecord, ring?: number): void {
    startSearch(this, target, ring);
  }
  /** @inheritdoc */
  startRouted(search: SearchRecord): void {
    startRouted(this, search);
  }
  /** @inheritdoc */
  flushOutbox(c: ContactRecord): void {
    flushOutbox(this, c);
  }
  /** @inheritdoc */
  announceAll(searchOnFailure: boolean): void {
    announceAll(this, searchOnFailure);
  }
  /** @inheritdoc */
  startDialback(): void {
    startDialback(this);
  }

  // ---------------------------------------------------------------- timers and commands

  #onTimer(timer: TimerId): void {
    switch (timer.kind) {
      case 'announce':
        announceAll(this, false);
        maybeRecheck(this);
        if (this.cfg.announceIntervalMs > 0) this.setTimer(timer, this.#now + this.cfg.announceIntervalMs);
        return;
      case 'outbox':
        return retryOutbox(this);
      case 'sweep':
        return sweep(this);
      case 'relay':
        return relayTimedOut(this, timer.id);
      case 'search':
        return searchTimedOut(this, timer.key);
    }
  }
}
