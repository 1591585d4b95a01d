/**
 * Referrals (onmessage chart, branch "referral"): "is referent self? → ignore; new or shorter → store
 * (referent, hops, via sender); gen < limit → send referral messages (gen++)". Soft state: they
 * expire, and are withdrawn when a contact goes away.
 */
import { MOVED_REFERRAL_INTERVAL_MS, REFERRAL_FANOUT } from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { ReferralBody } from '../messages.ts';
import { reachable } from '../reachability.ts';
import { deleteReferral, putReferral } from '../tables.ts';
import type { ContactRecord, ReferralRecord } from '../types.ts';
import { digestReceived } from './digest.ts';

const referralsOf = (core: CoreContext, referent: string): readonly ReferralRecord[] =>
  core.state.referrals.get(referent) ?? [];

/** Most alternative routes kept per referent (the shortest first). */
export const MAX_VIAS_PER_REFERENT = 3;

/** Handles an authenticated referral (or a presence announce: referent = sender, hops 0). */
export function handleReferral(core: CoreContext, ctx: InboundContext, body: ReferralBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'referrals come from contacts only');
  core.respondOk(ctx.upstream);
  const { referent, hops } = body;
  // Presence: the auth step already updated the sender's address; a digest rides along (issue 11).
  if (referent === sender.uuid && hops === 0) {
    if (body.digest !== undefined && core.cfg.digests) digestReceived(core, sender, body.digest);
    return;
  }
  if (referent === core.self.uuid) return; // "is referent self → yes": ignore
  if (hops === 0) return core.drop('BAD_REQUEST', 'a referral about someone else needs hops ≥ 1');
  if (body.withdraw) {
    const wasBest = bestHops(core, referent);
    if (deleteReferral(core, referent, sender.uuid) && wasBest === hops && bestHops(core, referent) === undefined)
      forward(core, { referent, hops: hops + 1, withdraw: true }, [sender.uuid, referent]);
    return;
  }
  const direct = core.state.contacts.get(referent);
  if (direct && direct.status === 'active') return; // a direct contact beats any referral
  const list = referralsOf(core, referent);
  const mine = list.find((r) => r.via === sender.uuid);
  const best = bestHops(core, referent);
  const isNewOrShorter = best === undefined || hops < best;
  if (!mine && !isNewOrShorter && list.length >= MAX_VIAS_PER_REFERENT) return;
  putReferral(core, {
    referent,
    via: sender.uuid,
    hops,
    updatedAt: core.now,
    expiresAt: core.now + core.cfg.referralTtlMs,
  });
  trimVias(core, referent);
  if (isNewOrShorter) forward(core, { referent, hops: hops + 1 }, [sender.uuid, referent]);
}

function bestHops(core: CoreContext, referent: string): number | undefined {
  let best: number | undefined;
  for (const r of referralsOf(core, referent))
    if (r.expiresAt > core.now && (best === undefined || r.hops < best)) best = r.hops;
  return best;
}

function trimVias(core: CoreContext, referent: string): void {
  const list = [...referralsOf(core, referent)].sort((a, b) => a.hops - b.hops || b.updatedAt - a.updatedAt);
  for (const r of list.slice(MAX_VIAS_PER_REFERENT)) deleteReferral(core, referent, r.via);
}

/**
 * "gen < limit → send referral messages (gen++)" to active contacts except `exclude`: at most
 * REFERRAL_FANOUT of them, most recently seen first (issue 12: every fan-out is bounded).
 */
function forward(core: CoreContext, body: ReferralBody, exclude: string[], referent?: ContactRecord): void {
  // A peer with a domain is no friend of its contacts: telling them about each other would spread
  // the graph it must not learn, and its contacts find each other by digest or directory (issue 11).
  if (body.hops > core.cfg.referralRadius || core.cfg.isPublic) return;
  // Contacts the referent's digest lists heard its own announce: only the others need our referral
  // (issue 11: on a clustered graph most of a mover's contacts' contacts are its contacts too).
  const skip = referent && core.digests.of(referent) ? referent : null;
  const targets: ContactRecord[] = [];
  for (const c of core.state.contacts.values())
    if (reachable(c) && !exclude.includes(c.uuid) && c.domain === null && !(skip && core.digestLists(skip, c.uuid)))
      targets.push(c);
  if (targets.length > REFERRAL_FANOUT) {
    targets.sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0));
    core.drop('LIMIT_FANOUT', `referral about ${body.referent}: ${targets.length - REFERRAL_FANOUT} contacts not told`);
  }
  for (const c of targets.slice(0, REFERRAL_FANOUT))
    core.send({ contact: c }, 'referral', body, body.withdraw ? 'withdraw' : 'referral', { kind: 'referral' });
}

/**
 * onmessage "IP changed → yes → referrals → send referral message to contacts": we reach `c` in 1 hop.
 * At most once per MOVED_REFERRAL_INTERVAL_MS per contact (issue 12 #3): the referral carries no
 * address, so repeating it soon after only multiplies a contact's Mesh-Port games by our contacts.
 */
export function announceContactMoved(core: CoreContext, c: ContactRecord): void {
  const last = core.state.lastReferralSent.get(c.uuid);
  if (last !== undefined && core.now - last < MOVED_REFERRAL_INTERVAL_MS) {
    core.drop('LIMIT_MOVED', `address change of ${c.uuid} already told at ${last}`);
    return;
  }
  core.state.lastReferralSent.set(c.uuid, core.now);
  forward(core, { referent: c.uuid, hops: 1 }, [c.uuid], c);
}

/** Withdraws the referral we gave about `c` (it went away). */
export function withdrawReferrals(core: CoreContext, c: ContactRecord): void {
  if (!core.state.lastReferralSent.has(c.uuid)) return;
  core.state.lastReferralSent.delete(c.uuid);
  core.state.withdrawn.add(c.uuid);
  forward(core, { referent: c.uuid, hops: 1, withdraw: true }, [c.uuid]);
}
