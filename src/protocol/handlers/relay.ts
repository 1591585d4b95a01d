/**
 * Relaying IP and contact_req messages that are not for us (onmessage chart: "is referred to? →
 * relay message", "reached max hops? no → relay to connected peers"). The first good downstream
 * answer travels back upstream; duplicates are answered, not re-flooded. A relay in flight is a
 * `RelayRecord` in the state, ended by its first good answer, its last failure or its timer.
 */
import type { FailureCode } from '../../errors.ts';
import { MAX_WIRE_HOPS } from '../codec.ts';
import {
  DIGEST_RELAY_FANOUT,
  DIGEST_SEARCH_FANOUT,
  RELAY_FANOUT_STRANGER,
  RELAY_MAX_IN_FLIGHT,
  RELAY_MAX_STRANGER,
} from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { MessageType, OkResponse } from '../messages.ts';
import { unreachableAfter } from '../reachability.ts';
import { digestHits, route } from '../routing.ts';
import { seenAdd, seenHas } from '../seen-cache.ts';
import type { RelayRecord } from '../state.ts';
import type { ContactRecord } from '../types.ts';

/** Forwards `body` (with hops+1) toward `to`, answering the upstream request when done. */
export function relay(
  core: CoreContext,
  ctx: InboundContext,
  type: MessageType,
  to: string,
  hops: number,
  body: Record<string, unknown>,
  maxHops?: number,
): void {
  const { state, now, cfg } = core;
  const searchKey = `s|${ctx.headers.id}`;
  const stranger = ctx.sender === null;
  if (seenHas(state.seen, searchKey, now))
    return core.respondError(ctx.requestId, 'DUPLICATE', 'this search already passed here');
  seenAdd(state.seen, searchKey, now, stranger);
  if (hops >= MAX_WIRE_HOPS) return core.respondError(ctx.requestId, 'UNREACHABLE', 'hop limit reached');
  // Budgets (issue 12 #1): relays in flight at once, and a smaller share for strangers (--public).
  let strangerRelays = 0;
  if (stranger) for (const rec of state.relays.values()) if (rec.upstream.sender === null) strangerRelays++;
  if (state.relays.size >= RELAY_MAX_IN_FLIGHT || (stranger && strangerRelays >= RELAY_MAX_STRANGER)) {
    core.drop('LIMIT_RELAYS', `${state.relays.size} relays in flight`);
    return core.respondError(ctx.requestId, 'OVER_LIMIT', 'this node carries too many relays now; try again later');
  }
  // A flood is bounded for everyone; a stranger's request goes to fewer contacts still. 0 (the
  // simulator's seed strategy) means all contacts for our contacts' requests only.
  const fanout = stranger ? Math.min(cfg.relayFanout || RELAY_FANOUT_STRANGER, RELAY_FANOUT_STRANGER) : cfg.relayFanout;
  const r = route(core, to, ctx.sender?.uuid ?? null, hops, now, {
    searchRadius: Math.min(cfg.searchRadius, maxHops ?? MAX_WIRE_HOPS),
    relayFanout: fanout,
    // Digest hits know the target directly, so they are asked whatever the ring (like referrals),
    // but only within the search radius: a false positive does not start a chain (issue 11).
    // In the flooding ring one hop more: the flood's last hop asks the contacts whose digest lists
    // the target, so paths searcher–x–y–z–target are found without any referral having spread.
    digestFanout: cfg.digests ? DIGEST_RELAY_FANOUT : 0,
    digestRadius: cfg.searchRadius + ((maxHops ?? 1) > 1 ? 1 : 0),
  });
  let targets: ContactRecord[];
  switch (r.kind) {
    case 'self':
    case 'unreachable':
      return core.respondError(ctx.requestId, 'UNREACHABLE', `no route to ${to} within ${cfg.searchRadius} hops`);
    case 'direct':
      targets = [r.contact];
      break;
    case 'referral':
    case 'digest':
      targets = r.vias;
      break;
    case 'flood':
      targets = r.targets;
      if (r.cut > 0) core.drop('LIMIT_FANOUT', `relay flood to ${to}: ${r.cut} contacts not asked`);
      break;
  }
  // Deeper relays give up sooner so their UNREACHABLE reaches the searcher before its own timeout.
  const budget = Math.max(1000, cfg.relayTimeoutMs - hops * 1000);
  const rec: RelayRecord = { id: state.nextRelayId++, upstream: ctx.upstream, to, pending: [], deadline: now + budget };
  state.relays.set(rec.id, rec);
  const next = { ...body, hops: hops + 1 };
  // Issue 11: the target may have moved and told only its anchors; when our direct try fails, the
  // contacts whose digest lists it (anchors first) get one more try, within the search radius.
  if (r.kind === 'direct' && cfg.digests && hops < cfg.searchRadius)
    rec.fallback = { type, body: next, meshId: ctx.headers.id, from: ctx.sender?.uuid ?? null };
  sendLegs(core, rec, type, next, targets, r.kind === 'direct', ctx.headers.id, budget);
  core.setTimer({ kind: 'relay', id: rec.id }, rec.deadline);
}

function sendLegs(
  core: CoreContext,
  rec: RelayRecord,
  type: MessageType,
  body: Record<string, unknown>,
  targets: ContactRecord[],
  direct: boolean,
  meshId: string,
  budget: number,
): void {
  const kind = type === 'IP' ? 'ip-relay' : 'contact_req-relay';
  for (const c of targets) {
    const then = { kind: 'relay', relayId: rec.id, contact: c.uuid, direct } as const;
    rec.pending.push(core.send({ contact: c }, type, body, kind, then, meshId, budget));
  }
}

/**
 * The direct leg failed: ask DIGEST_SEARCH_FANOUT of the contacts whose digest lists the target, in
 * its anchor order, once (true when any was asked).
 */
function fallBack(core: CoreContext, rec: RelayRecord): boolean {
  const f = rec.fallback;
  rec.fallback = undefined;
  // A direct leg that timed out leaves too little of the budget: the upstream is about to give up.
  if (!f || rec.deadline - core.now < 1000) return false;
  const hits = digestHits(core, rec.to, [f.from, rec.to], DIGEST_SEARCH_FANOUT);
  if (hits.length === 0) return false;
  sendLegs(core, rec, f.type, f.body, hits, false, f.meshId, Math.max(1, rec.deadline - core.now));
  return true;
}

/** Answers upstream and forgets the relay: with the downstream data, or UNREACHABLE. */
function finishRelay(core: CoreContext, rec: RelayRecord, resp?: OkResponse): void {
  core.state.relays.delete(rec.id);
  core.clearTimer({ kind: 'relay', id: rec.id });
  if (resp) core.respondOk(rec.upstream, resp.data);
  else core.respondError(rec.upstream.requestId, 'UNREACHABLE', `no answer from ${rec.to}`);
}

/** A downstream leg answered (`resp`) or failed (`failure`). */
export function relayAnswered(
  core: CoreContext,
  requestId: number,
  then: { relayId: number; contact: string; direct: boolean },
  resp: OkResponse | null,
  failure: FailureCode | null,
): void {
  if (failure !== null && then.direct && unreachableAfter(failure, 'relayed')) {
    // Even after the relay ended: the target itself did not answer, so it is not at its address.
    const c = core.state.contacts.get(then.contact);
    if (c) core.contactUnreachable(c);
  }
  const rec = core.state.relays.get(then.relayId);
  if (!rec) return;
  rec.pending = rec.pending.filter((id) => id !== requestId);
  if (resp?.data) finishRelay(core, rec, resp);
  else if (rec.pending.length === 0 && !(then.direct && fallBack(core, rec))) finishRelay(core, rec);
}

/** The relay's timer: no good answer in time. */
export function relayTimedOut(core: CoreContext, relayId: number): void {
  const rec = core.state.relays.get(relayId);
  if (rec) finishRelay(core, rec);
}
