/**
 * Introducers (docs/PROTOCOL.md §16.4, issue 10 item 7). A node that cannot be dialled names a
 * contact it holds a channel to as introducer in its invites (the introducer's address is one of the
 * invite's address hints) and registers the invite with it (`introduce`). While the invite is live
 * the introducer forwards a stranger's signed first contact request for that invite to the inviter
 * over their channel, at most INTRODUCE_MAX_PER_INVITE times. The request and its answer stay what
 * they are: signed by the requester, sealed by the inviter; the introducer only carries them.
 */

import { checkUuid, tryFromB64u } from '../../crypto/index.ts';
import { isPrivateAddress } from '../../util/address.ts';
import { isPlausibleAddress } from '../codec.ts';
import {
  INTRODUCE_MAX,
  INTRODUCE_MAX_PER_CONTACT,
  INTRODUCE_MAX_PER_INVITE,
  INVITE_INTRODUCERS,
} from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { ContactCard, ContactReqBody, IntroduceBody } from '../messages.ts';
import type { ContactRecord } from '../types.ts';
import { addressFrom } from './presence.ts';

/**
 * Introducers for a new invite: active contacts we hold an open channel to (they carry the request to
 * us whoever can dial whom) with an address a stranger can use, peers with a domain first, then the
 * most recently seen; at most INVITE_INTRODUCERS.
 */
export function pickIntroducers(core: CoreContext): ContactRecord[] {
  const { state } = core;
  // Strangers cannot dial us when we advertise ourselves as not dialable (§15.2: private, or not yet
  // confirmed behind a NAT) or our address is a private one (RFC 1918 / CGNAT / ULA); a dialable public
  // or loopback node needs no introducer.
  if (state.address === null || (state.nat.dialable && !isPrivateAddress(state.address))) return [];
  return [...state.contacts.values()]
    .filter((c) => c.status === 'active' && c.address !== null && state.channels.has(c.uuid))
    .sort((a, b) => Number(b.domain !== null) - Number(a.domain !== null) || (b.lastSeen ?? 0) - (a.lastSeen ?? 0))
    .slice(0, INVITE_INTRODUCERS);
}

/** Registers a new invite with its introducers (the answers change nothing). */
export function registerInvite(core: CoreContext, introducers: ContactRecord[], id: string, expiresAt: number): void {
  const body: IntroduceBody = { invite: id, expiresAt };
  for (const c of introducers) core.send({ contact: c }, 'introduce', body, 'introduce', { kind: 'introduce' });
}

/** `introduce` from a contact: forward first contact requests for this invite to it while it is live. */
export function handleIntroduce(core: CoreContext, ctx: InboundContext, body: IntroduceBody): void {
  const sender = ctx.sender;
  if (!sender) return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'introductions are for contacts only');
  const { state, now } = core;
  if (body.expiresAt <= now) return core.respondError(ctx.requestId, 'BAD_REQUEST', 'introduce: the invite expired');
  for (const [id, i] of state.introductions) if (i.expiresAt <= now) state.introductions.delete(id);
  const existing = state.introductions.get(body.invite);
  if (existing && existing.inviter !== sender.uuid)
    return core.respondError(ctx.requestId, 'BAD_REQUEST', 'introduce: another contact registered this invite id');
  if (!existing) {
    let mine = 0;
    for (const i of state.introductions.values()) if (i.inviter === sender.uuid) mine++;
    if (mine >= INTRODUCE_MAX_PER_CONTACT || state.introductions.size >= INTRODUCE_MAX) {
      core.drop('LIMIT_INTRODUCED', `introduce from ${sender.uuid}`);
      return core.respondError(ctx.requestId, 'OVER_LIMIT', 'too many live introductions; try again later');
    }
  }
  // Bounded by the invite lifetime the core allows for its own invites (a contact cannot pin an entry for ever).
  const expiresAt = Math.min(body.expiresAt, now + core.cfg.inviteTtlMs);
  state.introductions.set(body.invite, { inviter: sender.uuid, expiresAt, used: existing?.used ?? 0 });
  core.respondOk(ctx.upstream);
}

/**
 * A stranger's contact_req for someone else reached a node that relays for contacts only: true when
 * it is for a live invite a contact registered with us and the introduction budget allows one more
 * (the caller then relays it like a contact's).
 */
export function mayIntroduce(core: CoreContext, ctx: InboundContext, body: ContactReqBody): boolean {
  if (body.invite === undefined || body.to === null || !ctx.stranger) return false;
  const i = core.state.introductions.get(body.invite);
  if (!i || i.inviter !== body.to || i.expiresAt <= core.now) return false;
  if (i.used >= INTRODUCE_MAX_PER_INVITE) {
    core.drop('LIMIT_INTRODUCED', `invite ${body.invite}`);
    return false;
  }
  i.used++;
  // The requester may keep a channel to us: relay between the two while the invite lives (§16.4).
  const { introduced } = core.state;
  for (const [uuid, p] of introduced) if (p.expiresAt <= core.now) introduced.delete(uuid);
  if (introduced.size < INTRODUCE_MAX)
    introduced.set(ctx.headers.from, {
      uuid: ctx.headers.from,
      inviter: body.to,
      signPub: ctx.stranger.signPub,
      boxPub: ctx.stranger.boxPub,
      address: addressFrom(core, ctx),
      expiresAt: i.expiresAt,
    });
  return true;
}

/** The requester's side: the introducer named in the inviter's answer relays for the pair while the invite lives. */
export function rememberIntroducer(core: CoreContext, contact: string, card: ContactCard | undefined): void {
  if (!card || card.address === null || card.uuid === core.self.uuid || core.state.contacts.has(card.uuid)) return;
  const signPub = tryFromB64u(card.signPub);
  const boxPub = tryFromB64u(card.boxPub);
  if (signPub?.length !== 32 || boxPub?.length !== 32 || !checkUuid(card.uuid, signPub, boxPub)) return;
  if (!isPlausibleAddress(card.address, core.state.address))
    return core.drop('BAD_ADDRESS', `introducer ${card.address}`);
  core.state.introducerRelays.set(contact, {
    uuid: card.uuid,
    signPub,
    boxPub,
    address: card.address,
    expiresAt: core.now + core.cfg.inviteTtlMs,
  });
}
