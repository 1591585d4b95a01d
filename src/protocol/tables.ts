/**
 * Writes to the core's tables that every handler shares: each change in memory goes with its
 * `persist` op, so the Store never drifts from the state. Also the periodic sweep of soft state.
 */
import type { BudgetDropReason } from '../errors.ts';
import {
  DAY,
  MAX_CONTACT_REFERRALS_PER_VIA,
  MAX_REFERRALS,
  MAX_REFERRALS_PER_VIA,
  OUTBOX_EXPIRY_MS,
  PENDING_REQUEST_TTL_MS,
} from './constants.ts';
import type { CoreContext } from './context.ts';
import { seenSweep } from './seen-cache.ts';
import { putReferralInMemory } from './state.ts';
import type { ContactRecord, ReferralRecord } from './types.ts';

/** Persists a contact record after a change. */
export function saveContact(ctx: CoreContext, c: ContactRecord): void {
  ctx.persist({ op: 'contact:put', contact: { ...c } });
}

/** Stores or refreshes a referral (in memory and persisted), then keeps the table within its budgets. */
export function putReferral(ctx: CoreContext, r: ReferralRecord): void {
  putReferralInMemory(ctx.state, r);
  ctx.persist({ op: 'referral:put', referral: { ...r } });
  boundReferrals(ctx, r.via);
}

/**
 * Referral budgets (issue 12 #9): through one contact at most MAX_REFERRALS_PER_VIA, of which at most
 * MAX_CONTACT_REFERRALS_PER_VIA about our own contacts; at most MAX_REFERRALS in all. Beyond a budget
 * the least recently refreshed entry of that class is evicted (and counted), so a contact claiming
 * routes to everyone only displaces its own older claims.
 */
function boundReferrals(ctx: CoreContext, via: string): void {
  // Counted, not copied: a hub holds thousands of referrals and this runs on every put.
  let total = 0;
  for (const list of ctx.state.referrals.values()) total += list.length;
  if (total <= Math.min(MAX_REFERRALS_PER_VIA, MAX_CONTACT_REFERRALS_PER_VIA) && total <= MAX_REFERRALS) return; // the common case: a small table needs no counting
  const oldestFirst = (a: ReferralRecord, b: ReferralRecord) => a.updatedAt - b.updatedAt;
  const evict = (list: ReferralRecord[], max: number) => {
    if (list.length <= max) return;
    for (const r of list.sort(oldestFirst).slice(0, Math.max(0, list.length - max))) {
      deleteReferral(ctx, r.referent, r.via);
      ctx.drop('LIMIT_REFERRALS', `referral for ${r.referent} via ${r.via} evicted`);
    }
  };
  const mine: ReferralRecord[] = [];
  for (const list of ctx.state.referrals.values()) for (const r of list) if (r.via === via) mine.push(r);
  // A filter can only shrink a list: one no longer than its budget evicts nothing.
  if (mine.length > MAX_CONTACT_REFERRALS_PER_VIA)
    evict(
      mine.filter((r) => ctx.state.contacts.has(r.referent)),
      MAX_CONTACT_REFERRALS_PER_VIA,
    );
  if (mine.length > MAX_REFERRALS_PER_VIA)
    evict(
      mine.filter((r) => (ctx.state.referrals.get(r.referent) ?? []).includes(r)),
      MAX_REFERRALS_PER_VIA,
    );
  if (total > MAX_REFERRALS) {
    const left: ReferralRecord[] = [];
    for (const list of ctx.state.referrals.values()) left.push(...list);
    evict(left, MAX_REFERRALS);
  }
}

/**
 * A fixed-window budget: true (and counted) while fewer than `max` uses of `key` fell in the current
 * window of `windowMs`; false when it is spent, counted as a drop by `reason`.
 */
export function withinBudget(
  ctx: CoreContext,
  key: string,
  max: number,
  windowMs: number,
  reason: BudgetDropReason,
): boolean {
  const windows = ctx.state.windows;
  let w = windows.get(key);
  if (!w || ctx.now - w.start >= windowMs) windows.set(key, (w = { start: ctx.now, count: 0 }));
  if (w.count >= max) {
    ctx.drop(reason, key);
    return false;
  }
  w.count++;
  return true;
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

/**
 * Retention (issue 12 item 6): forgets delivered messages' (from, id) after `deliveredRetentionMs`
 * (the handler refuses messages older than that memory, so none is delivered twice) and drops
 * delivered or failed outbox records after `outboxHistoryMs`.
 */
export function pruneRetention(ctx: CoreContext): void {
  const { now, state, cfg } = ctx;
  const before = now - cfg.deliveredRetentionMs;
  let pruned = false;
  for (const [k, at] of state.delivered) {
    if (at < before) {
      state.delivered.delete(k);
      pruned = true;
    }
  }
  if (pruned) ctx.persist({ op: 'delivered:prune', before });
  for (const m of [...state.outbox.values()]) {
    // A failed message failed when it expired (OUTBOX_EXPIRY_MS after it was written).
    const doneAt =
      m.state === 'delivered' ? m.deliveredAt : m.state === 'failed' ? m.createdAt + OUTBOX_EXPIRY_MS : null;
    if (doneAt !== null && now - doneAt > cfg.outboxHistoryMs) {
      state.outbox.delete(m.id);
      ctx.persist({ op: 'outbox:delete', id: m.id });
    }
  }
}

/** Sweep timer: drops expired referrals, invites, spent invites, old requests and seen ids; applies retention. */
export function sweep(ctx: CoreContext): void {
  const { now, state } = ctx;
  pruneRetention(ctx);
  seenSweep(state.seen, now);
  // Budget windows are at most an hour long (INBOX_WINDOW_MS); a day-old one counts nothing any more.
  // (Deleting the entry being visited is safe in a Map iteration: the tables are walked without copies,
  // and only lists with an expired entry are copied — a hub holds thousands, swept every 10 minutes.)
  for (const [k, w] of state.windows) if (now - w.start > DAY) state.windows.delete(k);
  for (const [referent, list] of state.referrals) {
    if (!list.some((r) => r.expiresAt <= now)) continue;
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
  for (const [k, l] of [...state.directory]) {
    const live = l.filter((e) => e.expiresAt > now);
    if (live.length === 0) state.directory.delete(k);
    else if (live.length < l.length) state.directory.set(k, live);
  }
  ctx.setTimer({ kind: 'sweep' }, now + ctx.cfg.sweepIntervalMs);
}
