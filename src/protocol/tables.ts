/**
 * Writes to the core's tables that every handler shares: each change in memory goes with its
 * `persist` op, so the Store never drifts from the state. Also the periodic sweep of soft state.
 */
import { PENDING_REQUEST_TTL_MS, SWEEP_INTERVAL_MS } from './constants.ts';
import type { CoreContext } from './context.ts';
import { seenSweep } from './seen-cache.ts';
import { putReferralInMemory } from './state.ts';
import type { ContactRecord, ReferralRecord } from './types.ts';

/** Persists a contact record after a change. */
export function saveContact(ctx: CoreContext, c: ContactRecord): void {
  ctx.persist({ op: 'contact:put', contact: { ...c } });
}

/** Stores or refreshes a referral (in memory and persisted). */
export function putReferral(ctx: CoreContext, r: ReferralRecord): void {
  putReferralInMemory(ctx.state, r);
  ctx.persist({ op: 'referral:put', referral: { ...r } });
}

/** Deletes a referral; false when there was none. */
export function deleteReferral(ctx: CoreContext, referent: string, via: string): boolean {
  const list = ctx.state.referrals.get(referent);
  if (!list) return false;
  const i = list.findIndex((r) => r.via === via);
  if (i < 0) return false;
  list.splice(i, 1);
  if (list.length === 0) ctx.state.referrals.delete(referent);
  ctx.persist({ op: 'referral:delete', referent, via });
  return true;
}

/** Records and announces that a search found contact `c` (`via`: who answered). */
export function relocated(ctx: CoreContext, c: ContactRecord, via: string, searchId: string, address: string): void {
  const search = ctx.state.searches.get(c.uuid);
  const stats = ctx.state.stats;
  stats.relocations = (stats.relocations ?? 0) + 1;
  if (search) stats.relocationMs = (stats.relocationMs ?? 0) + (ctx.now - search.startedAt);
  ctx.emit({ event: 'relocated', uuid: c.uuid, address, via, searchId });
}

/** Ends a search: its timer is cleared and late answers find nothing to continue. */
export function endSearch(ctx: CoreContext, key: string): void {
  ctx.clearTimer({ kind: 'search', key });
  ctx.state.searches.delete(key);
}

/** Sweep timer: drops expired referrals, invites, spent invites, old requests and seen ids. */
export function sweep(ctx: CoreContext): void {
  const { now, state } = ctx;
  seenSweep(state.seen, now);
  for (const [referent, list] of [...state.referrals]) {
    for (const r of [...list]) if (r.expiresAt <= now) deleteReferral(ctx, referent, r.via);
  }
  for (const inv of [...state.invites.values()]) {
    if (inv.expiresAt <= now) {
      state.invites.delete(inv.id);
      ctx.persist({ op: 'invite:delete', id: inv.id });
    }
  }
  for (const [id, spent] of [...state.spentInvites]) if (spent.invite.expiresAt <= now) state.spentInvites.delete(id);
  for (const req of [...state.requests.values()]) {
    if (now - req.receivedAt > PENDING_REQUEST_TTL_MS) {
      state.requests.delete(req.uuid);
      ctx.persist({ op: 'request:delete', uuid: req.uuid });
    }
  }
  ctx.setTimer({ kind: 'sweep' }, now + SWEEP_INTERVAL_MS);
}
