/**
 * The domain-peer address directory (issue 11 item 3, PROTOCOL.md §18): a peer with a domain keeps
 * sealed address records for its contacts under blinded keys (serving side); a node publishes its
 * own record there on start, on an address change and at each epoch (publishing side); a searcher
 * whose friends could not help looks the target's record up before it floods (lookup side).
 */
import { sha256, toB64u, tryFromB64u, utf8 } from '../../crypto/index.ts';
import { decodeJson, isPlausibleAddress } from '../codec.ts';
import {
  ANNOUNCE_INTERVAL_MS,
  DIRECTORY_EPOCH_MS,
  DIRECTORY_GETS_PER_CONTACT,
  DIRECTORY_MAX_PER_KEY,
  DIRECTORY_MAX_RECORDS,
  DIRECTORY_PUT_PEERS,
  DIRECTORY_PUTS_PER_CONTACT,
  DIRECTORY_TTL_MS,
  DIRECTORY_WINDOW_MS,
} from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import { directoryEpoch, directoryKey, openDirectoryRecord, sealDirectoryRecord } from '../directory.ts';
import type { DirectoryBody, OkResponse } from '../messages.ts';
import { usable } from '../reachability.ts';
import type { SearchPurpose, SearchRecord } from '../state.ts';
import { saveContact, withinBudget } from '../tables.ts';
import type { ContactRecord } from '../types.ts';

// ---------------------------------------------------------------- serving (a peer with a domain)

/** A `directory` request from a contact: store its record, or answer the records under a key. */
export function handleDirectory(core: CoreContext, ctx: InboundContext, body: DirectoryBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'the directory serves contacts only');
  if (!core.cfg.isPublic)
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'this node keeps no directory (not a peer with a domain)');
  const { now, state } = core;
  if (body.op === 'put') {
    if (
      !withinBudget(core, `dirput|${sender.uuid}`, DIRECTORY_PUTS_PER_CONTACT, DIRECTORY_WINDOW_MS, 'LIMIT_DIRECTORY')
    )
      return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many directory records from you this hour; try later');
    const list = (state.directory.get(body.key) ?? []).filter((e) => e.putter !== sender.uuid && e.expiresAt > now);
    // One record per putter: a contact that knows the key (any contact of its owner) cannot
    // overwrite the owner's record, only add its own, which fails the owner's signature check.
    list.push({ putter: sender.uuid, record: body.record, expiresAt: now + DIRECTORY_TTL_MS });
    while (list.length > DIRECTORY_MAX_PER_KEY) list.shift();
    // Re-inserted at the end: the Map's order is the order of last writes, so the first key is the oldest.
    state.directory.delete(body.key);
    state.directory.set(body.key, list);
    evictOldest(core);
    return core.respondOk(ctx.upstream);
  }
  if (!withinBudget(core, `dirget|${sender.uuid}`, DIRECTORY_GETS_PER_CONTACT, DIRECTORY_WINDOW_MS, 'LIMIT_DIRECTORY'))
    return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many directory lookups from you this hour; try later');
  const live = (state.directory.get(body.key) ?? []).filter((e) => e.expiresAt > now);
  // A response's `data` is base64url (§3): the records as a JSON array, in base64url.
  const data = live.length > 0 ? toB64u(utf8(JSON.stringify(live.map((e) => e.record)))) : undefined;
  core.respondOk(ctx.upstream, data);
}

function evictOldest(core: CoreContext): void {
  const dir = core.state.directory;
  let total = 0;
  for (const l of dir.values()) total += l.length;
  while (total > DIRECTORY_MAX_RECORDS) {
    const [k, l] = dir.entries().next().value as [string, unknown[]];
    dir.delete(k);
    total -= l.length;
    core.drop('LIMIT_DIRECTORY', 'directory full: oldest record evicted');
  }
}

// ---------------------------------------------------------------- publishing our record

const peersWithDomain = (core: CoreContext): ContactRecord[] =>
  [...core.state.contacts.values()].filter((c) => c.domain !== null && c.status !== 'pending' && usable(c));

/**
 * Our peers with a domain in the rendezvous order of key `key` (highest SHA-256(key ‖ uuid) first):
 * publisher and searcher rank the peers they share the same way, so a record put at the first
 * DIRECTORY_PUT_PEERS is found by asking the first ones, two at a time.
 */
function rendezvous(core: CoreContext, key: string): ContactRecord[] {
  const score = new Map<string, string>();
  for (const c of peersWithDomain(core)) score.set(c.uuid, toB64u(sha256(utf8(`${key}|${c.uuid}`))));
  return [...score.keys()]
    .sort((a, b) => (score.get(a)! < score.get(b)! ? 1 : -1))
    .map((u) => core.state.contacts.get(u)!);
}

/**
 * Puts our record at every peer with a domain among our contacts, when our address or the epoch
 * changed since the last put. Near the end of an epoch the next epoch's key gets one too, so a
 * searcher always finds one under the current key (we publish at least once per announce interval).
 */
export function publishAddress(core: CoreContext): void {
  const ip = core.state.address;
  if (!core.cfg.digests || core.cfg.isPublic || ip === null) return;
  const epoch = directoryEpoch(core.now);
  const last = core.state.dirPublished;
  const nearEnd = (epoch + 1) * DIRECTORY_EPOCH_MS - core.now <= ANNOUNCE_INTERVAL_MS;
  const epochs = nearEnd ? [epoch, epoch + 1] : [epoch];
  if (last && last.address === ip && last.epoch === epochs[epochs.length - 1]) return;
  if (peersWithDomain(core).length === 0) return;
  core.state.dirPublished = { address: ip, epoch: epochs[epochs.length - 1] };
  const cs = core.digests.secret();
  for (const e of epochs) {
    if (last && last.address === ip && e <= last.epoch) continue;
    const key = directoryKey(cs, e);
    const peers = rendezvous(core, key).slice(0, DIRECTORY_PUT_PEERS);
    const record = sealDirectoryRecord(cs, core.self.signPriv, key, ip, core.now, core.random(12));
    for (const c of peers)
      core.send({ contact: c }, 'directory', { op: 'put', key, record }, 'directory', { kind: 'referral' });
  }
}

// ---------------------------------------------------------------- looking a contact up

/**
 * Asks our peers with a domain for `target`'s record (we need its digest: the key is derived from
 * its contact secret). False when we cannot (no digest, no peer with a domain).
 */
export function startDirectoryLookup(core: CoreContext, target: ContactRecord): boolean {
  const d = core.digests.of(target);
  if (!d) return false;
  const key = directoryKey(d.secret, directoryEpoch(core.now));
  const peers = rendezvous(core, key);
  if (peers.length === 0) return false;
  core.startRouted({
    key: target.uuid,
    meshId: core.newId(),
    startedAt: core.now,
    type: 'directory',
    body: { op: 'get', key },
    kind: 'directory',
    queue: peers.map((c) => ({ contact: c.uuid })),
    // The first DIRECTORY_PUT_PEERS hold it if we share the target's peers: ask two at a time.
    narrow: peers.length,
    inFlight: [],
    deadline: core.now,
    purpose: { kind: 'directory', target: target.uuid, key },
  });
  return true;
}

/** A peer with a domain answered: take the newest record the target signed, and announce ourselves there. */
export function directoryAnswered(
  core: CoreContext,
  _s: SearchRecord,
  purpose: Extract<SearchPurpose, { kind: 'directory' }>,
  resp: OkResponse,
): boolean {
  const target = core.state.contacts.get(purpose.target);
  const d = target ? core.digests.of(target) : null;
  if (!target || !d || !resp.data) return false;
  const raw = tryFromB64u(resp.data);
  const records = raw ? decodeJson(raw) : null;
  if (!Array.isArray(records)) return false;
  let best: { ip: string; ts: number } | null = null;
  for (const r of records.slice(0, DIRECTORY_MAX_PER_KEY)) {
    if (typeof r !== 'string') continue;
    const rec = openDirectoryRecord(d.secret, target.signPub, purpose.key, r);
    if (rec && isPlausibleAddress(rec.ip, core.state.address) && (!best || rec.ts > best.ts)) best = rec;
  }
  if (!best) return false;
  if (best.ip !== target.address) {
    target.address = best.ip;
    saveContact(core, target);
  }
  // The record is the target's word, signed; the announce's authenticated answer confirms it is there
  // (and flushes what waits for it). No further search if it is not: the outbox retries later.
  core.announceTo(target, false);
  return true;
}

/** No peer with a domain had a good record: widen to the flooding ring. */
export function directoryExhausted(core: CoreContext, purpose: Extract<SearchPurpose, { kind: 'directory' }>): void {
  const target = core.state.contacts.get(purpose.target);
  if (target) core.startSearch(target, core.cfg.searchRadius);
}
