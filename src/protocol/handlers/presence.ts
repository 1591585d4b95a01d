/**
 * Presence (sendmessage chart "Program start" / "IP change" → "send connect"; onmessage "IP
 * changed?"): announcing ourselves to contacts, noting that a contact is there (or not), and
 * learning addresses from requests.
 */
import type { FailureCode } from '../../errors.ts';
import { formatAddress, hostOf, tryParseAddress } from '../../util/address.ts';
import { byAnchorRank } from '../anchors.ts';
import { LAST_SEEN_PERSIST_MS, MOVE_ANCHORS, MOVE_RETRY_WINDOW_MS } from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import { sealDigest } from '../digest.ts';
import type { ReferralBody } from '../messages.ts';
import { announceInfo } from '../observed.ts';
import { reachable, unreachableAfter, usable } from '../reachability.ts';
import { queuedCount } from '../state.ts';
import { endSearch, relocated, saveContact } from '../tables.ts';
import type { ContactRecord } from '../types.ts';
import { publishAddress } from './directory.ts';
import { announceContactMoved, withdrawReferrals } from './referral.ts';

/**
 * We heard from (or reached) a contact at `address`: update it (the onmessage chart's "IP changed?"),
 * tell other contacts by referral when it changed, and deliver what waits for it.
 */
export function contactSeen(ctx: CoreContext, c: ContactRecord, address: string | null, spread = true): void {
  const { state, now } = ctx;
  const wasInactive = c.status !== 'active';
  const previous = c.address;
  const changed = address !== null && address !== previous;
  const wasPending = c.status === 'pending';
  if (wasPending) ctx.emit({ event: 'contact:added', uuid: c.uuid, name: c.name });
  const lastSaved = c.lastSeen ?? 0;
  c.lastSeen = now;
  c.status = 'active';
  if (changed) {
    c.address = address;
    ctx.emit({ event: 'contact:address', uuid: c.uuid, address });
  }
  if (changed || wasInactive || now - lastSaved >= LAST_SEEN_PERSIST_MS) saveContact(ctx, c);
  if (wasInactive && c.address) ctx.emit({ event: 'contact:online', uuid: c.uuid, address: c.address });
  if (wasInactive) state.windows.delete(`search|${c.uuid}`); // found: the next loss searches at once
  const search = state.searches.get(c.uuid);
  if (search && (changed || wasInactive)) {
    // The contact reached us first ("send connect" beat the relayed answer): the search succeeded.
    if (c.address) relocated(ctx, c, c.uuid, search.key, c.address);
    endSearch(ctx, search.key);
  }
  // Referrals carry address changes only (a contact that merely came back at the same address needs
  // none), and only when the contact told us itself: a searcher that found it through others adds
  // nothing the contact's own announce did not already spread (the simulator measured the waste).
  // A referral we withdrew when we lost the contact is given again once we find it.
  const withdrawn = state.withdrawn.delete(c.uuid);
  if ((spread || withdrawn) && changed && previous !== null) announceContactMoved(ctx, c);
  if (wasInactive || changed) ctx.flushOutbox(c);
  // Our request was accepted: answer the acceptor's announce with ours, so it learns our advertised
  // address, whether it can dial it, and our LAN address (§15.3) — it needs that last one if we ever
  // share a router without hairpinning (§15.5).
  if (wasPending) announceTo(ctx, c, false);
}

/** A direct attempt to reach a contact failed: mark it inactive ("deactivate"), withdraw referrals about it. */
export function contactUnreachable(ctx: CoreContext, c: ContactRecord): void {
  // §16.1: a channel with it is open (it dialled us from behind a NAT): it is there, whatever our dial says.
  if (ctx.state.channels.has(c.uuid)) return;
  if (c.status === 'active') {
    c.status = 'inactive';
    saveContact(ctx, c);
    ctx.emit({ event: 'contact:offline', uuid: c.uuid });
    withdrawReferrals(ctx, c);
  }
}

/**
 * sendmessage chart on "Program start" and "IP change": try each contact at its associated IP
 * (a presence referral, hops 0). A failure deactivates the contact and, on start / IP change,
 * searches for it through the other contacts.
 */
export function announceAll(ctx: CoreContext, searchOnFailure: boolean): void {
  const moved = ctx.state.moved;
  const retrying = moved !== null && ctx.now - moved.at < MOVE_RETRY_WINDOW_MS;
  if (moved && !retrying) ctx.state.moved = null;
  // Without digests a searcher cannot tell the anchors among the mutual contacts: everybody is told.
  const push = moved !== null && moved.at === ctx.now && searchOnFailure && ctx.cfg.digests ? moveAnchors(ctx) : null;
  for (const c of [...ctx.state.contacts.values()]) {
    if (!usable(c)) continue;
    // The address change itself (issue 11: a move costs O(MOVE_ANCHORS), not O(degree)): active
    // contacts other than the anchors hear it with the next periodic announce; until they answer
    // one they count as having missed it (so they are tried even if they go inactive meanwhile).
    if (push && c.status === 'active' && !push.has(c.uuid)) {
      moved?.missed.add(c.uuid);
      continue;
    }
    // A contact we already failed to reach is tried again only when a message waits for it, or
    // when it missed our last address change (issue 11: it holds our old address, so it cannot
    // find us when it comes back; one announce per hour each, for MOVE_RETRY_WINDOW_MS).
    if (
      c.status !== 'active' &&
      (!searchOnFailure || queuedCount(ctx.state, c.uuid) === 0) &&
      !(retrying && moved.missed.has(c.uuid))
    )
      continue;
    announceTo(ctx, c, searchOnFailure);
  }
  // The same moments (start, address change, hourly) refresh our record at peers with a domain.
  publishAddress(ctx);
}

/**
 * Whom a move is announced to at once: the first MOVE_ANCHORS active contacts in our anchor order
 * (peers with a domain excluded: the directory carries moves to them), plus every contact with an
 * open channel or messages waiting (a conversation going on).
 */
function moveAnchors(ctx: CoreContext): Set<string> {
  const active = [...ctx.state.contacts.values()].filter((c) => reachable(c) && c.domain === null);
  const push = new Set(
    byAnchorRank(ctx.self.uuid, active)
      .slice(0, MOVE_ANCHORS)
      .map((c) => c.uuid),
  );
  for (const c of ctx.state.contacts.values())
    if (ctx.state.channels.has(c.uuid) || queuedCount(ctx.state, c.uuid) > 0) push.add(c.uuid);
  return push;
}

/** Sends our presence to one contact ("send connect"), with our digest when it lacks the current one. */
export function announceTo(ctx: CoreContext, c: ContactRecord, searchOnFailure: boolean): void {
  if (!usable(c)) return;
  const body: ReferralBody = { referent: ctx.self.uuid, hops: 0, ...announceInfo(ctx) };
  let digest: string | undefined;
  // Peers with a domain neither search nor get searched through: they get no digest and send none.
  if (ctx.cfg.digests && !ctx.cfg.isPublic && c.domain === null && c.status !== 'pending') {
    const own = ctx.digests.own(ctx.state.contacts, ctx.now);
    if (ctx.state.digestSent.get(c.uuid) !== own.version) {
      body.digest = sealDigest(ctx.linkKey(c), ctx.self.uuid, c.uuid, own.payload, ctx.random(12), ctx.crypto);
      digest = own.version;
    }
  }
  ctx.send({ contact: c }, 'referral', body, 'announce', {
    kind: 'announce',
    contact: c.uuid,
    searchOnFailure,
    ...(digest !== undefined ? { digest } : {}),
  });
}

/** The answer to an announce: the contact is there, or (on a failure that says so) it is not. */
export function announceAnswered(
  ctx: CoreContext,
  then: { contact: string; searchOnFailure: boolean; digest?: string },
  failure: FailureCode | null,
): void {
  const c = ctx.state.contacts.get(then.contact);
  if (!c) return;
  const moved = ctx.state.moved;
  if (failure === null) {
    if (then.digest !== undefined) ctx.state.digestSent.set(c.uuid, then.digest);
    moved?.missed.delete(c.uuid);
    return contactSeen(ctx, c, c.address);
  }
  if (!unreachableAfter(failure, 'own')) return;
  // §16.1: its channel opened while our announce failed on the way (an accept racing the requester's
  // dial): say it once more, over the channel (searchOnFailure false: no second retry).
  if (ctx.state.channels.has(c.uuid) && then.searchOnFailure) return announceTo(ctx, c, false);
  if (moved && ctx.now - moved.at < MOVE_RETRY_WINDOW_MS) moved.missed.add(c.uuid);
  contactUnreachable(ctx, c);
  // Search only when something waits for it: an offline contact cannot be found anyway, and it
  // finds us when it comes back (the simulator: searching for every offline contact on start
  // cost ~900 messages per node at 30% offline).
  if (then.searchOnFailure && queuedCount(ctx.state, c.uuid) > 0) ctx.startSearch(c);
}

/** Our IP:PORT as a contact should store it, learnt from a request's socket and Mesh-Port. */
export function addressFrom(ctx: CoreContext, inbound: InboundContext): string {
  // A peer with a domain is reached by its DNS name, whatever IP it speaks from.
  if (inbound.sender?.domain && inbound.sender.address) return inbound.sender.address;
  const host = hostOf(inbound.remote);
  // A contact behind a port mapping announced its external port (§15.3); the socket shows its host.
  const announced = inbound.sender ? ctx.state.nat.peers.get(inbound.sender.uuid)?.addr : undefined;
  const announcedAt = announced ? tryParseAddress(announced) : null;
  if (announcedAt && announcedAt.host === host) return announced as string;
  const port =
    inbound.headers.port ??
    (inbound.sender?.address ? (tryParseAddress(inbound.sender.address)?.port ?? ctx.cfg.port) : ctx.cfg.port);
  return formatAddress({ host, port });
}
