/**
 * An incoming request (onmessage chart and the auth chart): check the headers, the replay window and
 * the sender (Mesh-Secret for contacts, a signature for first contact), then hand the decoded body
 * to its handler.
 */
import { toB64u } from '../crypto/index.ts';
import { formatAddress, hostOf } from '../util/address.ts';
import { decodeBody, decodeHeaders } from './codec.ts';
import { PROBE_INTERVAL_MS } from './constants.ts';
import type { CoreContext, InboundContext } from './context.ts';
import { handleContactReq } from './handlers/contact-request.ts';
import { handleDialback } from './handlers/dialback.ts';
import { handleDirectory } from './handlers/directory.ts';
import { verifyStranger } from './handlers/first-contact.ts';
import { handleIntroduce } from './handlers/introducer.ts';
import { handleIp } from './handlers/ip.ts';
import { handleMessage } from './handlers/message.ts';
import { handleRelay } from './handlers/path.ts';
import { addressFrom } from './handlers/presence.ts';
import { handlePunch } from './handlers/punch.ts';
import { handleReferral } from './handlers/referral.ts';
import { lanRoute, notePeerInfo } from './observed.ts';
import { reachable } from './reachability.ts';
import { seenAdd, seenHas } from './seen-cache.ts';
import { withinBudget } from './tables.ts';

/** Authenticates and dispatches one inbound request; every path ends in a `respond` (maybe later, for relays). */
export function onRequest(
  core: CoreContext,
  requestId: number,
  remote: string,
  rawHeaders: Record<string, string>,
  body: Uint8Array,
  channel: string | null = null,
  /** §16: the request came sealed through this relay (a contact): authenticate it by its own proof only. */
  relayedBy: string | null = null,
): void {
  const { state, now } = core;
  const h = decodeHeaders(rawHeaders, channel !== null);
  if (!h.ok) return core.respondError(requestId, h.code, h.message);
  const headers = h.value;
  // A channel speaks for the one identity its HELLO proved: nobody may speak as another UUID on it.
  if (channel !== null && headers.from !== channel)
    return core.respondError(requestId, 'BAD_SECRET', "Mesh-From is not this channel's authenticated peer");
  if (Math.abs(now - headers.ts) > core.cfg.replayWindowMs)
    return core.respondError(requestId, 'REPLAYED', 'Mesh-Ts is outside the ±5 minute replay window; check your clock');
  const replayKey = `${headers.from}|${headers.id}`;
  if (seenHas(state.seen, replayKey, now))
    return core.respondError(requestId, 'REPLAYED', 'this (Mesh-From, Mesh-Id) was already received');
  const decoded = decodeBody(headers.type, body);
  // Built only when a proof is checked: a channel-authenticated request needs none (no SHA-256 of the body).
  const input = () =>
    core.crypto.requestSigningInput({
      version: headers.version,
      type: headers.type,
      from: headers.from,
      id: headers.id,
      ts: headers.ts,
      port: headers.port,
      body,
    });
  const sender = state.contacts.get(headers.from) ?? null;
  const ctx: InboundContext = {
    requestId,
    remote,
    headers,
    body,
    sender: null,
    stranger: null,
    upstream: { requestId, remote, meshId: headers.id, sender: null },
  };
  if (sender && channel !== null) {
    // Channel-authenticated (docs/PROTOCOL.md §13.8): the HELLO proved this contact's keys, bound to
    // this TLS session, so no per-request Mesh-Secret is needed (or checked).
    ctx.sender = sender;
    ctx.upstream.sender = sender.uuid;
    ctx.upstream.channel = true;
  } else if (sender && headers.secret !== null) {
    // auth chart: recompute the proof with our copy of the secret → are equal?
    // One answer for "not your contact" whatever the reason (issue 12 #8): a stranger must not learn
    // from BAD_SECRET vs UNKNOWN_SENDER whether a UUID is one of our contacts.
    if (!core.crypto.checkProof(core.linkKey(sender), input(), headers.secret))
      return core.respondError(requestId, 'UNKNOWN_SENDER', NOT_A_CONTACT);
    ctx.sender = sender;
    ctx.upstream.sender = sender.uuid;
  } else if (headers.pubKey !== null && headers.signature !== null) {
    const stranger = verifyStranger(headers, input());
    if (!stranger)
      return core.respondError(requestId, 'BAD_SIGNATURE', 'Mesh-Signature or Mesh-Pub-Key does not match Mesh-From');
    // A contact that lost its secret? Keys must match; it is still not authenticated as the contact.
    if (sender && toB64u(sender.signPub) !== toB64u(stranger.signPub))
      return core.respondError(requestId, 'BAD_SIGNATURE', 'key does not match the contact');
    // §16.4: an introducer and an introduced requester relay for each other without being contacts.
    if (headers.type !== 'contact_req' && headers.type !== 'relay') {
      if (relayedBy === null) unknownSender(core, ctx);
      return core.respondError(requestId, 'UNKNOWN_SENDER', NOT_A_CONTACT);
    }
    ctx.stranger = stranger;
  } else {
    if (relayedBy === null) unknownSender(core, ctx);
    return core.respondError(requestId, 'UNKNOWN_SENDER', NOT_A_CONTACT);
  }
  if (!decoded.ok) return core.respondError(requestId, decoded.code, decoded.message);
  seenAdd(state.seen, replayKey, now, ctx.sender === null);
  const m = decoded.value;
  if (ctx.sender) {
    // A presence announce says where the contact can be reached (§15.3): learn that first, so
    // the address taken from this very request can use it.
    if (m.type === 'referral' && m.body.hops === 0 && m.body.referent === ctx.sender.uuid)
      notePeerInfo(core, ctx.sender.uuid, m.body);
    // A relayed request says nothing about the origin's address (the socket is the relay's), but its
    // announce can say the contact is behind our own router: then its LAN address replaces the
    // public one we cannot reach without hairpinning (§15.5), and the pair talks directly.
    const held = ctx.sender.address;
    const lan = relayedBy !== null && held !== null ? lanRoute(core, ctx.sender.uuid, held) : null;
    core.contactSeen(
      ctx.sender,
      relayedBy === null ? lanRoute(core, ctx.sender.uuid, addressFrom(core, ctx)) : lan !== held ? lan : null,
    );
  }
  switch (m.type) {
    case 'IP':
      return handleIp(core, ctx, m.body);
    case 'referral':
      return handleReferral(core, ctx, m.body);
    case 'message':
      return handleMessage(core, ctx, m.body);
    case 'contact_req':
      return handleContactReq(core, ctx, m.body);
    case 'dialback':
      return handleDialback(core, ctx, m.body);
    case 'relay':
      return handleRelay(core, ctx, m.body, (id, h, b, via) => onRequest(core, id, remote, h, b, null, via));
    case 'introduce':
      return handleIntroduce(core, ctx, m.body);
    case 'punch':
      return handlePunch(core, ctx, m.body);
    case 'directory':
      return handleDirectory(core, ctx, m.body);
  }
}

/** The one answer to a request that is not from a contact, whatever the reason (issue 12 #8). */
const NOT_A_CONTACT = 'not a contact of this node (or the proof does not match); send a contact request first';

/**
 * onmessage "sender in peers? no → IP → remove IP → peers → try": a stranger speaks from the address
 * we hold for one of our contacts, so that contact may no longer be there. The request proves
 * nothing about the contact (anyone behind the same NAT can send it, issue 12 #4), so it changes no
 * state: it only prompts an authenticated check (a presence announce; its failure deactivates the
 * contact and searches when messages wait), at most once per PROBE_INTERVAL_MS per contact.
 */
function unknownSender(core: CoreContext, ctx: InboundContext): void {
  const port = ctx.headers.port;
  if (port === null) return;
  const address = formatAddress({ host: hostOf(ctx.remote), port });
  for (const c of core.state.contacts.values()) {
    if (c.address === address && c.uuid !== ctx.headers.from && reachable(c)) {
      if (withinBudget(core, `probe|${c.uuid}`, 1, PROBE_INTERVAL_MS, 'LIMIT_PROBES')) core.announceTo(c, true);
    }
  }
}
