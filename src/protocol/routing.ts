/**
 * Pure next-hop decisions for IP and contact_req (onmessage chart: "for self / is referred to /
 * reached max hops / relay to connected peers"). No state is changed here.
 */
import { byAnchorRank } from './anchors.ts';
import { reachable, usable } from './reachability.ts';
import type { ContactRecord, ReferralRecord } from './types.ts';

/** Where a relay sends a message for `to`. */
export type Route =
  | { kind: 'self' }
  /** `to` is our own contact: forward to it. */
  | { kind: 'direct'; contact: ContactRecord }
  /** We hold referrals for `to`: relay along them (best first). */
  | { kind: 'referral'; vias: ContactRecord[] }
  /** Contacts whose digest lists `to` (they know it directly): relay to them. */
  | { kind: 'digest'; vias: ContactRecord[] }
  /** Hops left: flood to our contacts except the sender (at most the fan-out; `cut` = how many were left out). */
  | { kind: 'flood'; targets: ContactRecord[]; cut: number }
  /** Hops exhausted and no route. */
  | { kind: 'unreachable' };

/** What routing needs to see of a node's tables. */
export interface RoutingView {
  selfUuid: string;
  contact(uuid: string): ContactRecord | undefined;
  referrals(referent: string): readonly ReferralRecord[];
  contacts(): Iterable<ContactRecord>;
  /** True when contact `c`'s digest (probably) lists `uuid` (absent: no digests). */
  digestLists?(c: ContactRecord, uuid: string): boolean;
}

/**
 * Decides the next hop for a message to `to` that arrived from `from` after `hops` hops
 * (`from` = null when we originate). Flooding happens only while `hops < searchRadius`.
 */
export function route(
  view: RoutingView,
  to: string,
  from: string | null,
  hops: number,
  now: number,
  opts: {
    searchRadius: number;
    relayFanout: number;
    maxViaReferrals?: number;
    /** Relay to at most this many contacts whose digest lists `to` (0 / absent = no digest routing)… */
    digestFanout?: number;
    /** …while `hops` is below this (a digest hit knows the target directly: one more hop suffices). */
    digestRadius?: number;
  },
): Route {
  if (to === view.selfUuid) return { kind: 'self' };
  const direct = view.contact(to);
  // An inactive direct contact may still be at its address: a relay cannot know better, so it tries.
  if (usable(direct) && to !== from) return { kind: 'direct', contact: direct };
  const vias: ContactRecord[] = [];
  for (const r of bestReferrals(view.referrals(to), now)) {
    if (r.via === from || r.via === to) continue;
    const c = view.contact(r.via);
    if (reachable(c)) vias.push(c);
    if (vias.length >= (opts.maxViaReferrals ?? 2)) break;
  }
  if (vias.length > 0) return { kind: 'referral', vias };
  // After referrals (fresh: their vias heard the target since it moved), before any flood: contacts
  // whose digest lists the target know it directly (but may be away: the digest does not say).
  const digestFanout = opts.digestFanout ?? 0;
  if (digestFanout > 0 && view.digestLists && hops < (opts.digestRadius ?? 0)) {
    const hits = digestHits(view, to, [from, to], digestFanout);
    if (hits.length > 0) return { kind: 'digest', vias: hits };
  }
  if (hops < opts.searchRadius) {
    const all = floodTargets(view.contacts(), [from, to], 0);
    const targets = opts.relayFanout > 0 ? all.slice(0, opts.relayFanout) : all;
    if (targets.length > 0) return { kind: 'flood', targets, cut: all.length - targets.length };
  }
  return { kind: 'unreachable' };
}

/**
 * Reachable contacts (not peers with a domain, not in `exclude`) whose digest lists `target`, in the
 * target's anchor order (anchors.ts: the contacts it told first when it moved come first); at most
 * `max` (0 = all).
 */
export function digestHits(
  view: RoutingView,
  target: string,
  exclude: (string | null)[],
  max: number,
): ContactRecord[] {
  if (!view.digestLists) return [];
  const out: ContactRecord[] = [];
  for (const c of view.contacts())
    if (reachable(c) && c.domain === null && !exclude.includes(c.uuid) && view.digestLists(c, target)) out.push(c);
  const ranked = byAnchorRank(target, out);
  return max > 0 ? ranked.slice(0, max) : ranked;
}

/** Unexpired referrals, fewest hops first, most recently refreshed first on ties. */
export function bestReferrals(list: readonly ReferralRecord[], now: number): ReferralRecord[] {
  return list.filter((r) => r.expiresAt > now).sort((a, b) => a.hops - b.hops || b.updatedAt - a.updatedAt);
}

/** Active contacts with an address, excluding the given uuids; at most `fanout` (0 = all), most recently seen first. */
export function floodTargets(
  contacts: Iterable<ContactRecord>,
  exclude: (string | null)[],
  fanout: number,
): ContactRecord[] {
  const out: ContactRecord[] = [];
  for (const c of contacts) if (reachable(c) && !exclude.includes(c.uuid)) out.push(c);
  out.sort((a, b) => (b.lastSeen ?? 0) - (a.lastSeen ?? 0) || (a.uuid < b.uuid ? -1 : 1));
  return fanout > 0 ? out.slice(0, fanout) : out;
}

/**
 * The searcher's order of contacts to ask for `target` (sendmessage chart "send IP message to contacts",
 * then "to peers with domain"): contacts holding a referral for it first, then the others, then peers with a domain.
 */
export function searchOrder(view: RoutingView, target: string, now: number): ContactRecord[] {
  const first: ContactRecord[] = [];
  const seen = new Set<string>([target]);
  for (const r of bestReferrals(view.referrals(target), now)) {
    const c = view.contact(r.via);
    if (!seen.has(r.via) && reachable(c) && c.domain === null) {
      first.push(c);
      seen.add(r.via);
    }
  }
  const others = floodTargets(view.contacts(), [...seen], 0);
  return [...first, ...others.filter((c) => c.domain === null), ...others.filter((c) => c.domain !== null)];
}
