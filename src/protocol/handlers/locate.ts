/**
 * Locating a contact whose address went stale: an IP message (our address sealed to it) through our
 * other contacts, then peers with a domain, in an expanding ring. On the answer: update its address
 * ("send connect"). The batching itself is search.ts.
 */
import { fromB64u, toB64u, utf8 } from '../../crypto/index.ts';
import { decodeJson, isPlausibleAddress } from '../codec.ts';
import { SEARCH_RETRY_INTERVAL_MS } from '../constants.ts';
import type { CoreContext } from '../context.ts';
import type { IpAnswerSealed, IpSealed, OkResponse } from '../messages.ts';
import { lanRoute } from '../observed.ts';
import { bestReferrals, digestHits, searchOrder } from '../routing.ts';
import type { SearchPurpose, SearchRecord, Via } from '../state.ts';
import { relocated } from '../tables.ts';
import type { ContactRecord } from '../types.ts';
import { startDirectoryLookup } from './directory.ts';

/** Associated data of the sealed part of an IP message to `to`. */
export const ipAad = (to: string) => utf8(`mesh-v1-IP|${to}`);
/** Associated data of the target's sealed answer to an IP search. */
export const ipAnswerAad = (searchId: string) => utf8(`mesh-v1-IP-answer|${searchId}`);
/** The input of the origin's proof in an IP message (the seed's `encrypted.secret`). */
export const ipProofInput = (searchId: string, ip: string) => utf8(`mesh-v1-ip|${searchId}|${ip}`);
/** The input of the target's proof in its answer. */
export const ipAnswerProofInput = (searchId: string, ip: string) => utf8(`mesh-v1-ip-answer|${searchId}|${ip}`);

/**
 * Who to ask, at most `maxAsk` (0 = all): contacts whose digest lists the target first (`narrow` of
 * them, asked one or two at a time), then those holding a referral for it, then the others in a
 * random order (so a retry asks other contacts), then every peer with a domain.
 */
function boundedOrder(
  core: CoreContext,
  target: string,
  maxAsk: number,
  ring: number,
): { order: ContactRecord[]; narrow: number } {
  const all = searchOrder(core, target, core.now);
  const domains = all.filter((c) => c.domain !== null);
  const hits = digestHits(core, target, [target], core.cfg.searchMaxAsk);
  const hit = new Set(hits.map((c) => c.uuid));
  // The flooding ring leaves out the digest hits: they were asked (and failed) in the first.
  if (ring > 1) hits.length = 0;
  // With digests the first ring keeps peers with a domain out: the directory (which does not tell
  // them who looks for whom) comes next, and only the flooding ring asks them to relay.
  if (ring <= 1 && core.cfg.digests) domains.length = 0;
  // The same unexpired referrals searchOrder puts first (an expired one awaiting the sweep does not count).
  const vias = new Set(bestReferrals(core.referrals(target), core.now).map((r) => r.via));
  const first = all.filter((c) => c.domain === null && vias.has(c.uuid) && !hit.has(c.uuid));
  const rest = all.filter((c) => c.domain === null && !vias.has(c.uuid) && !hit.has(c.uuid));
  const bytes = core.random(4 * rest.length);
  for (let i = rest.length - 1; i > 0; i--) {
    const r = (bytes[4 * i] | (bytes[4 * i + 1] << 8) | (bytes[4 * i + 2] << 16) | (bytes[4 * i + 3] << 24)) >>> 0;
    const j = r % (i + 1);
    [rest[i], rest[j]] = [rest[j], rest[i]];
  }
  // Digest hits have their own bound (searchMaxAsk): each is one targeted request, not a flood.
  const others = [...first, ...rest];
  return {
    order: [...hits, ...(maxAsk > 0 ? others.slice(0, maxAsk) : others), ...domains],
    narrow: hits.length,
  };
}

/** Searches for `target` (its key is its uuid: one search per contact at a time). */
export function startSearch(core: CoreContext, target: ContactRecord, ring?: number): void {
  // §16.1: no search while a channel with it is open (its address may be undialable; it is there).
  if (core.state.searches.has(target.uuid) || core.state.channels.has(target.uuid)) return;
  // A search that found nothing is not repeated at once (issue 11): SEARCH_RETRY_INTERVAL_MS.
  const failed = core.state.windows.get(`search|${target.uuid}`);
  if (ring === undefined && failed && core.now - failed.start < SEARCH_RETRY_INTERVAL_MS) {
    core.drop('LIMIT_FANOUT', `search for ${target.uuid} failed at ${failed.start}: not repeated yet`);
    return;
  }
  // Expanding ring: first ask only our contacts (those that know the target directly or by referral
  // answer); flood further, up to the search radius, only when that found nothing.
  const maxHops = ring ?? Math.min(1, core.cfg.searchRadius);
  const { order, narrow } = boundedOrder(
    core,
    target.uuid,
    maxHops <= 1 ? core.cfg.searchMaxAsk : Math.ceil(core.cfg.searchMaxAsk / 4),
    maxHops,
  );
  if (order.length === 0) {
    // Nobody to ask in the first ring: the directory at our peers with a domain may still know.
    if (maxHops <= 1 && core.cfg.digests && startDirectoryLookup(core, target)) return;
    core.drop('UNREACHABLE', `no contact to ask for ${target.uuid}`);
    return;
  }
  const { computeProof, sealTo } = core.crypto;
  const link = core.linkKey(target);
  const ip = core.state.address ?? '';
  // The sealed part proves the search id, so the id is drawn first.
  const meshId = core.newId();
  const sealedPart: IpSealed = {
    from: core.self.uuid,
    ip,
    proof: computeProof(link, ipProofInput(meshId, ip)),
    ts: core.now,
  };
  const encrypted = toB64u(
    sealTo(core.self, target.boxPub, utf8(JSON.stringify(sealedPart)), ipAad(target.uuid), core.random),
  );
  core.startRouted({
    key: target.uuid,
    meshId,
    startedAt: core.now,
    type: 'IP',
    body: { to: target.uuid, hops: 1, maxHops, encrypted },
    kind: 'ip',
    queue: order.map((c) => ({ contact: c.uuid })),
    ...(narrow > 0 ? { narrow } : {}),
    inFlight: [],
    deadline: core.now,
    purpose: { kind: 'locate', target: target.uuid, maxHops },
  });
}

/** Checks the target's sealed answer; on a good one the contact is relocated ("send connect"). */
export function locateAnswered(
  core: CoreContext,
  s: SearchRecord,
  purpose: Extract<SearchPurpose, { kind: 'locate' }>,
  resp: OkResponse,
  via: Via,
): boolean {
  const target = core.state.contacts.get(purpose.target);
  if (!target || !resp.data) return false;
  let sealed: Uint8Array;
  try {
    sealed = fromB64u(resp.data);
  } catch {
    return false;
  }
  const { openSealed, checkProof } = core.crypto;
  const opened = openSealed(core.self, sealed, ipAnswerAad(s.meshId));
  if (!opened || toB64u(opened.senderBoxPub) !== toB64u(target.boxPub)) {
    core.drop('BAD_SECRET', 'IP answer not sealed by the target');
    return false;
  }
  const ans = decodeJson(opened.plaintext) as IpAnswerSealed | null;
  if (!ans || typeof ans.ip !== 'string' || typeof ans.proof !== 'string') return false;
  if (!isPlausibleAddress(ans.ip, core.state.address)) {
    core.drop('BAD_ADDRESS', `IP answer claims ${ans.ip.slice(0, 300)}`);
    return false;
  }
  if (!checkProof(core.linkKey(target), ipAnswerProofInput(s.meshId, ans.ip), ans.proof)) {
    core.drop('BAD_SECRET', 'IP answer proof does not match our shared secret');
    return false;
  }
  // Behind our own public IP, it is reached on the LAN (§15.5: no hairpinning), when it told us that address.
  const at = lanRoute(core, target.uuid, ans.ip) ?? ans.ip;
  relocated(core, target, 'contact' in via ? via.contact : via.address, s.meshId, at);
  // Out of the table before contactSeen, which would otherwise count this search a second time.
  core.state.searches.delete(s.key);
  core.contactSeen(target, at, false);
  return true;
}

/** Nobody knew: widen the ring once, up to the search radius, then give up. */
export function locateExhausted(core: CoreContext, purpose: Extract<SearchPurpose, { kind: 'locate' }>): void {
  const target = core.state.contacts.get(purpose.target);
  if (target && purpose.maxHops < core.cfg.searchRadius) {
    // Friends could not help: the target's sealed record at our peers with a domain comes before
    // the flood (issue 11 item 3; the flooding ring asks peers with a domain to relay as before).
    if (purpose.maxHops <= 1 && core.cfg.digests && startDirectoryLookup(core, target)) return;
    return startSearch(core, target, core.cfg.searchRadius);
  }
  core.state.windows.set(`search|${purpose.target}`, { start: core.now, count: 1 });
  core.drop('UNREACHABLE', `search for ${purpose.target} found no route`);
}
