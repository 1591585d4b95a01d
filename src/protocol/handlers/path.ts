/**
 * Relay through a mutual contact (docs/PROTOCOL.md §16, issue 10 item 5). When a request to a contact
 * cannot go directly (no channel, and the dial failed), it goes sealed end to end through a contact of
 * both that holds a channel to the target: A → R `relay {from: A, to: B, sealed}` → B. R sees from,
 * to, the type and the size; B opens the sealed request, handles it as if A had sent it (its own
 * Mesh-Secret under the A–B link key is checked), and the answer goes back sealed the same way.
 *
 * Three roles, one file: the sender (`sendViaRelay`, `relayFallback`, `openRelayedAnswer`), the relay
 * (`handleRelay` when `to` is someone else), the target (`handleRelay` when `to` is us, and
 * `sealInnerAnswers` which turns the inner answers into the outer ones).
 */
import { fromB64u, openSealed, sealTo, toB64u, utf8 } from '../../crypto/index.ts';
import type { FailureCode } from '../../errors.ts';
import { decodeJson } from '../codec.ts';
import { RELAY_ASK_MAX, RELAY_INNER_MAX, RELAY_PATH_MAX_PER_CONTACT, RELAY_PATH_WINDOW_MS } from '../constants.ts';
import type { CoreContext, InboundContext, SendTarget } from '../context.ts';
import type { Effect } from '../events.ts';
import type { MessageType, RelayBody } from '../messages.ts';
import { bestReferrals } from '../routing.ts';
import type { Continuation, IntroducedPeer, OutstandingRequest, RelayAttempt, Upstream } from '../state.ts';
import { withinBudget } from '../tables.ts';
import type { ContactRecord } from '../types.ts';
import { startPunch } from './punch.ts';

/** Associated data of a relayed request from `from` to `to`. */
export const relayAad = (from: string, to: string) => utf8(`mesh-v1-relay|${from}|${to}`);
/** Associated data of the target's sealed answer to a relayed request. */
export const relayAnswerAad = (from: string, to: string) => utf8(`mesh-v1-relay-answer|${from}|${to}`);

/** Failures of a direct attempt after which a relay is worth trying: nobody (or someone else) answered there. */
const NO_DIRECT_ANSWER: readonly FailureCode[] = ['CONNECT_FAILED', 'TIMEOUT', 'TLS_PIN'];

/** Packs a request for sealing: u16be headers length ‖ headers JSON ‖ body (no base64 inside the seal). */
export function packRequest(headers: Record<string, string>, body: Uint8Array): Uint8Array {
  const h = utf8(JSON.stringify(headers));
  const out = new Uint8Array(2 + h.length + body.length);
  out[0] = h.length >> 8;
  out[1] = h.length & 0xff;
  out.set(h, 2);
  out.set(body, 2 + h.length);
  return out;
}

/** Unpacks `packRequest`; null when malformed (headers must be a flat object of strings). */
export function unpackRequest(bytes: Uint8Array): { headers: Record<string, string>; body: Uint8Array } | null {
  if (bytes.length < 2) return null;
  const n = (bytes[0] << 8) | bytes[1];
  if (2 + n > bytes.length) return null;
  const h = decodeJson(bytes.subarray(2, 2 + n));
  if (h === null || typeof h !== 'object' || Array.isArray(h)) return null;
  const headers: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(h as Record<string, unknown>)) {
    if (typeof v !== 'string') return null;
    headers[k.toLowerCase()] = v;
  }
  return { headers, body: bytes.slice(2 + n) };
}

/** Packs an answer for sealing: u16be status ‖ body. */
export function packAnswer(status: number, body: Uint8Array): Uint8Array {
  const out = new Uint8Array(2 + body.length);
  out[0] = status >> 8;
  out[1] = status & 0xff;
  out.set(body, 2);
  return out;
}

/** A relay: a contact of ours, or the introducer of an introduced pair (§16.4), with how to send to it. */
export interface RelayHop {
  uuid: string;
  target: SendTarget;
}

const contactHop = (c: ContactRecord): RelayHop => ({ uuid: c.uuid, target: { contact: c } });

/** The introducer that relays between us and `target` (§16.4), while it lives and we hold a channel to it. */
function introducerHop(core: CoreContext, target: string): RelayHop | null {
  const p = core.state.introducerRelays.get(target);
  if (!p) return null;
  if (p.expiresAt <= core.now || core.state.contacts.has(p.uuid)) {
    core.state.introducerRelays.delete(target);
    return null;
  }
  if (!core.state.channels.has(p.uuid)) return null;
  return { uuid: p.uuid, target: { address: p.address, domain: null, signPub: p.signPub } };
}

/**
 * Who may relay to `target`, best first, at most RELAY_ASK_MAX, none in `tried`: only active contacts
 * with an open channel to us (asking costs one round trip on it; a private node's relays are the
 * nodes it dialled). The relay that worked last first, then those holding a referral for the target
 * (they said they reach it), then the others, most recently seen first; last, the introducer that
 * carried our contact request (§16.4). Never the target itself.
 */
export function relayCandidates(core: CoreContext, target: string, tried: readonly string[]): RelayHop[] {
  const { state, now } = core;
  const ok = (c: ContactRecord | undefined): c is ContactRecord =>
    !!c && c.uuid !== target && !tried.includes(c.uuid) && c.status === 'active' && state.channels.has(c.uuid);
  const out: ContactRecord[] = [];
  const add = (c: ContactRecord | undefined) => {
    if (ok(c) && !out.includes(c)) out.push(c);
  };
  const last = state.relayVia.get(target);
  if (last) add(state.contacts.get(last));
  for (const r of bestReferrals(core.referrals(target), now)) add(state.contacts.get(r.via));
  const rest = [...state.contacts.values()].filter(ok).sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0));
  for (const c of rest) add(c);
  const hops = out.map(contactHop);
  const intro = introducerHop(core, target);
  if (intro && !tried.includes(intro.uuid)) hops.push(intro);
  return hops.slice(0, Math.max(0, RELAY_ASK_MAX - tried.length));
}

/** The relay to use for a request to `c` now, or null to go directly (a channel is open, or none is known). */
export function chosenRelay(core: CoreContext, c: ContactRecord): RelayHop | null {
  if (c.domain !== null || core.state.channels.has(c.uuid)) return null;
  const via = core.state.relayVia.get(c.uuid);
  if (!via) return null;
  const r = core.state.contacts.get(via);
  if (r) return r.status === 'active' && core.state.channels.has(r.uuid) ? contactHop(r) : null;
  const intro = introducerHop(core, c.uuid);
  return intro?.uuid === via ? intro : null;
}

/**
 * The path record of a request to contact `c` that goes directly now: kept (with the request as built)
 * only when no channel to `c` is open, so a failed dial can fall back to a relay.
 */
export function directPath(
  core: CoreContext,
  c: ContactRecord,
  type: MessageType,
  meshId: string,
  headers: Record<string, string>,
  body: Uint8Array,
  timeoutMs: number,
): RelayAttempt | undefined {
  // No channel at all (a v1 node, the simulator): no relay to fall back to, keep nothing.
  if (c.domain !== null || core.state.channels.has(c.uuid) || core.state.channels.size === 0) return undefined;
  return {
    target: c.uuid,
    meshId,
    linkKey: core.linkKey(c),
    via: null,
    type,
    headers: { ...headers },
    body,
    timeoutMs,
    tried: [],
    directFailure: null,
  };
}

/**
 * The runtime says a channel with `uuid` opened or closed. An open channel is authenticated
 * evidence that the peer is there (its HELLO proved its keys): an inactive contact turns active and
 * gets its queued messages and our presence; while it stays open the contact is never marked unreachable.
 */
export function channelChanged(core: CoreContext, uuid: string, open: boolean): void {
  if (!open) {
    core.state.channels.delete(uuid);
    return;
  }
  core.state.channels.add(uuid);
  const c = core.state.contacts.get(uuid);
  if (!c) return introducerUp(core, uuid);
  if (c.status === 'pending') return;
  if (c.status === 'active') return core.flushOutbox(c);
  core.contactSeen(c, null, false);
  // Our announce may have failed before the channel was up (an accept racing the requester's dial):
  // say it again over the channel, so a requester's pending contact turns active.
  core.announceTo(c, false);
}

/**
 * A channel to an introducer opened (§16.4): tell each contact it introduced us to that we are here,
 * through it. The inviter may have accepted before this channel was up; its accept then went nowhere.
 */
function introducerUp(core: CoreContext, uuid: string): void {
  for (const [contact, p] of core.state.introducerRelays) {
    const c = core.state.contacts.get(contact);
    if (p.uuid !== uuid || !c || c.address === null) continue;
    core.send({ contact: c }, 'referral', { referent: core.self.uuid, hops: 0 }, 'announce', {
      kind: 'announce',
      contact: c.uuid,
      searchOnFailure: false,
    });
  }
}

/** Sends a request for `path.target` through `relay`, as request `requestId`, continuing as `then`. */
export function sendViaRelay(
  core: CoreContext,
  requestId: number,
  then: Continuation,
  path: RelayAttempt,
  relay: RelayHop,
): void {
  const target = core.state.contacts.get(path.target) as ContactRecord;
  const sealed = sealTo(
    core.self,
    target.boxPub,
    packRequest(path.headers, path.body),
    relayAad(core.self.uuid, target.uuid),
    core.random,
  );
  const body: RelayBody = { from: core.self.uuid, to: target.uuid, sealed: toB64u(sealed) };
  core.send(relay.target, 'relay', body, 'relay', then, undefined, path.timeoutMs, {
    requestId,
    path: { ...path, via: relay.uuid, tried: [...path.tried, relay.uuid] },
  });
}

/**
 * A request to a contact failed: try (another) relay when that can help. True when the request went
 * out again under the same id (the caller must not settle it). A direct attempt that nobody answered
 * tries the relays; a relayed attempt whose relay failed or refused tries the next one; the target's
 * own answers (they came through) are final.
 */
export function relayFallback(
  core: CoreContext,
  requestId: number,
  o: OutstandingRequest,
  failure: FailureCode,
): boolean {
  const path = o.path;
  if (!path || !core.state.started) return false;
  const target = core.state.contacts.get(path.target);
  if (!target || target.domain !== null) return false;
  if (path.via === null) {
    if (!NO_DIRECT_ANSWER.includes(failure)) return false;
    path.directFailure = failure;
  } else if (core.state.relayVia.get(target.uuid) === path.via) {
    // The relay failed or refused (no channel to the target, not its contact, over budget): switch.
    core.state.relayVia.delete(target.uuid);
  }
  const next = relayCandidates(core, target.uuid, path.tried)[0];
  if (!next) return false;
  sendViaRelay(core, requestId, o.then, path, next);
  return true;
}

/** The failure to report when the last relay failed too: the direct attempt's, so the usual rules apply. */
export function finalFailure(o: OutstandingRequest, failure: FailureCode): FailureCode {
  return o.path?.via && o.path.directFailure ? o.path.directFailure : failure;
}

/**
 * The relay's 200 answer to a relayed request: open the target's sealed answer inside. Returns the
 * inner status and body, or a failure code (the relay's answer did not hold a valid sealed one).
 */
export function openRelayedAnswer(
  core: CoreContext,
  path: RelayAttempt,
  data: string | undefined,
): { status: number; body: Uint8Array } | FailureCode {
  const target = core.state.contacts.get(path.target);
  if (!target || data === undefined) return 'BAD_RESPONSE';
  const opened = openSealed(core.self, fromB64u(data), relayAnswerAad(core.self.uuid, target.uuid));
  if (!opened || toB64u(opened.senderBoxPub) !== toB64u(target.boxPub) || opened.plaintext.length < 2)
    return 'BAD_SECRET';
  const p = opened.plaintext;
  // The target answered through this relay: keep using it until it fails or a channel opens.
  if (path.via) core.state.relayVia.set(target.uuid, path.via);
  // A contact that never said it cannot be dialled has most likely moved: the relay is a stop-gap, the
  // seed's flow (find it through mutual contacts, then talk directly) still runs. A search is not
  // repeated within SEARCH_RETRY_INTERVAL_MS, and not at all while a channel with it is open.
  // Only when nothing listened at its address (refused: not a NAT that drops us), and not for a pair an
  // introducer carries (§16.4: it has no mutual contact to search through).
  const movedLikely =
    path.type !== 'punch' &&
    path.via !== null &&
    core.state.contacts.has(path.via) &&
    !core.state.introducerRelays.has(target.uuid) &&
    path.directFailure === 'CONNECT_FAILED' &&
    core.state.nat.peers.get(target.uuid)?.dialable !== false;
  if (movedLikely) core.startSearch(target);
  upgradeDirect(core, target, path.type);
  return { status: (p[0] << 8) | p[1], body: p.slice(2) };
}

/**
 * A contact answered (or reached us) through a relay and no channel to it is open: try the direct
 * upgrade (§17.6). `startPunch` keeps it from looping: one attempt at a time, the initiator's backoff
 * after a failure, nothing when this node does not punch or does not know its candidates yet. Not on
 * the punch messages themselves (they are the attempt; starting another would collide with it).
 */
function upgradeDirect(core: CoreContext, c: ContactRecord, type: string | undefined): void {
  if (type === 'punch' || c.status !== 'active' || c.domain !== null || core.state.channels.has(c.uuid)) return;
  if (core.cfg.punchPort === null) return;
  startPunch(core, c);
}

/**
 * An inbound `relay`: carry it to our contact `to` (we are the relay), or open and handle it (we are
 * the target). `handleInner` is the inbound pipeline (inbound.ts passes itself, so no import cycle).
 */
export function handleRelay(
  core: CoreContext,
  ctx: InboundContext,
  body: RelayBody,
  handleInner: (requestId: number, headers: Record<string, string>, body: Uint8Array, via: string) => void,
): void {
  const { state, now } = core;
  const sender = ctx.sender;
  const from = ctx.headers.from;
  if (body.to === core.self.uuid) return openRelayed(core, ctx, from, body, handleInner);
  if (body.from !== from)
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'relay: "from" must be the sender of this hop');
  // §16.4: between an inviter (our contact) and the requester we introduced to it, while the invite lives.
  const introducedTo = state.introduced.get(body.to);
  const introducedFrom = state.introduced.get(from);
  const pair =
    (sender && introducedTo?.inviter === sender.uuid && introducedTo.expiresAt > now) ||
    (!sender && introducedFrom?.inviter === body.to && introducedFrom.expiresAt > now);
  if (!sender && !pair)
    return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'relays carry requests of contacts only');
  const target = state.contacts.get(body.to);
  const targetOk = (target && target.status !== 'pending') || (pair && introducedTo);
  if (!targetOk)
    return core.respondError(ctx.requestId, 'UNREACHABLE', 'relay refused: the target is not a contact of this node');
  if (!state.channels.has(body.to))
    return core.respondError(ctx.requestId, 'UNREACHABLE', 'relay refused: this node has no channel to the target');
  if (!withinBudget(core, `relayed|${from}`, RELAY_PATH_MAX_PER_CONTACT, RELAY_PATH_WINDOW_MS, 'LIMIT_RELAYED'))
    return core.respondError(ctx.requestId, 'OVER_LIMIT', 'relay budget spent; try again in a minute');
  // Never stored: the request lives only as this outstanding send until the target answers.
  const to: SendTarget =
    target && target.status !== 'pending'
      ? { contact: target }
      : {
          address: (introducedTo as IntroducedPeer).address,
          domain: null,
          signPub: (introducedTo as IntroducedPeer).signPub,
        };
  core.send(to, 'relay', body, 'relay-forward', { kind: 'forward', upstream: ctx.upstream });
}

/** The answer (or failure) of a request we carried: back to the sender as it is. */
export function forwardAnswered(
  core: CoreContext,
  upstream: Upstream,
  data: string | undefined,
  failure: FailureCode | null,
): void {
  if (failure !== null || data === undefined)
    return core.respondError(
      upstream.requestId,
      'UNREACHABLE',
      `relay: the target did not answer (${failure ?? 'no data'})`,
    );
  core.respondOk(upstream, data);
}

function openRelayed(
  core: CoreContext,
  ctx: InboundContext,
  relay: string,
  body: RelayBody,
  handleInner: (requestId: number, headers: Record<string, string>, body: Uint8Array, via: string) => void,
): void {
  const { state } = core;
  const from = state.contacts.get(body.from);
  if (!from || from.uuid === relay)
    return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'relay: the origin is not a contact of this node');
  const opened = openSealed(core.self, fromB64u(body.sealed), relayAad(from.uuid, core.self.uuid));
  if (!opened || toB64u(opened.senderBoxPub) !== toB64u(from.boxPub))
    return core.respondError(ctx.requestId, 'BAD_SECRET', 'relay: the sealed request does not open from its origin');
  const inner = unpackRequest(opened.plaintext);
  if (!inner || inner.headers['mesh-from'] !== from.uuid || inner.headers['mesh-type'] === 'relay')
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'relay: malformed inner request');
  const innerId = state.nextInnerId--;
  state.relayInner.set(innerId, { upstream: ctx.upstream, from: from.uuid });
  if (state.relayInner.size > RELAY_INNER_MAX) {
    const [oldest, rec] = state.relayInner.entries().next().value as [number, { upstream: Upstream }];
    state.relayInner.delete(oldest);
    core.respondError(rec.upstream.requestId, 'UNREACHABLE', 'relay: too many relayed requests waiting');
  }
  // Answer the origin through the relay that reached us until a channel opens (it cannot be dialled):
  // a contact, or the introducer of this pair (a stranger relaying anything else is not remembered).
  const known = state.contacts.has(relay) || state.introducerRelays.get(from.uuid)?.uuid === relay;
  if (!state.channels.has(from.uuid) && known) state.relayVia.set(from.uuid, relay);
  const wasActive = from.status === 'active';
  const innerType = inner.headers['mesh-type'];
  handleInner(innerId, inner.headers, inner.body, relay);
  if (known) upgradeDirect(core, from, innerType);
  // It could not reach us before (our announce, e.g. an accept, went nowhere): say we are here, back
  // through the same relay. Once per inactive → active change, so no echo.
  if (!wasActive && from.status === 'active' && known) core.announceTo(from, false);
}

/**
 * Turns the `respond` effects of relayed inner requests into the 200 answers of their outer
 * requests, carrying the inner answer sealed to its origin (called on every batch of effects while
 * relayed requests are open).
 */
export function sealInnerAnswers(core: CoreContext, fx: Effect[]): Effect[] {
  const inner = core.state.relayInner;
  return fx.map((e) => {
    if (e.type !== 'respond' || e.requestId >= 0) return e;
    const rec = inner.get(e.requestId);
    if (!rec) return e;
    inner.delete(e.requestId);
    const from = core.state.contacts.get(rec.from);
    if (!from) return { ...e, requestId: rec.upstream.requestId };
    const sealed = sealTo(
      core.self,
      from.boxPub,
      packAnswer(e.status, e.body),
      relayAnswerAad(from.uuid, core.self.uuid),
      core.random,
    );
    return {
      type: 'respond',
      requestId: rec.upstream.requestId,
      status: 200,
      body: core.okBody(rec.upstream, toB64u(sealed)),
    };
  });
}
