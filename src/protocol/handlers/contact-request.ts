/**
 * Contact requests (addcontact chart; onmessage "contact request → generate auth_phrase and secret →
 * user / reply"). The requester's card travels under the invite key (or plain, signed, to a peer with a
 * domain); the answer is sealed to the requester. Both sides compute the same auth phrase.
 */
import {
  aeadOpen,
  aeadSeal,
  authPhrase,
  checkUuid,
  decodeInvite,
  fromB64u,
  inviteId,
  inviteKey,
  openSealed,
  sealTo,
  toB64u,
  tryFromB64u,
  utf8,
  verifyEd25519,
} from '../../crypto/index.ts';
import { MeshError } from '../../errors.ts';
import { decodeJson, isAddress, isPlausibleAddress, validateCard } from '../codec.ts';
import { ADD_MAX_ASK, MAX_ACCEPT_ALL_CONTACTS, MAX_PENDING_REQUESTS } from '../constants.ts';
import type { CoreContext, InboundContext } from '../context.ts';
import type { ContactAnswerSealed, ContactCard, ContactReqBody, OkResponse } from '../messages.ts';
import { searchOrder } from '../routing.ts';
import type { SearchPurpose, SearchRecord, Via } from '../state.ts';
import { saveContact } from '../tables.ts';
import type { ContactRecord, PendingRequestRecord } from '../types.ts';
import { addressFrom } from './presence.ts';
import { relay } from './relay.ts';

const reqAad = (to: string) => utf8(`mesh-v1-contact_req|${to}`);
const answerAad = (searchId: string) => utf8(`mesh-v1-contact_resp|${searchId}`);

function myCard(core: CoreContext): ContactCard {
  return {
    uuid: core.self.uuid,
    name: core.self.name,
    signPub: toB64u(core.self.signPub),
    boxPub: toB64u(core.self.boxPub),
    address: core.state.address,
  };
}

/**
 * Opens and checks the sealed answer: keys match the expected UUID, the sealer is that key, a
 * signature (first contact) verifies, and our own auth phrase equals theirs.
 */
function openAnswer(
  core: CoreContext,
  resp: OkResponse,
  searchId: string,
  expectUuid: string | null,
): { answer: ContactAnswerSealed; signPub: Uint8Array; boxPub: Uint8Array; secret: Uint8Array } | null {
  if (!resp.data) return null;
  let sealed: Uint8Array;
  try {
    sealed = fromB64u(resp.data);
  } catch {
    return null;
  }
  const opened = openSealed(core.self, sealed, answerAad(searchId));
  if (!opened) return null;
  const raw = decodeJson(opened.plaintext) as Record<string, unknown> | null;
  const card = validateCard(raw);
  if (!card || !raw || typeof raw.secret !== 'string' || typeof raw.authPhrase !== 'string') return null;
  if (expectUuid !== null && card.uuid !== expectUuid) return null;
  const signPub = fromB64u(card.signPub);
  const boxPub = fromB64u(card.boxPub);
  if (!checkUuid(card.uuid, signPub, boxPub) || toB64u(opened.senderBoxPub) !== card.boxPub) return null;
  if (
    resp.signature &&
    !verifyEd25519(
      signPub,
      core.crypto.responseSigningInput(searchId, resp.observed, resp.data),
      fromB64u(resp.signature),
    )
  )
    return null;
  // Only type-checked so far: a malformed secret in a sealed answer must not throw out of the core.
  const secret = tryFromB64u(raw.secret);
  if (secret?.length !== 32) return null;
  const phrase = authPhrase(core.self, { signPub, boxPub }, secret);
  if (phrase !== raw.authPhrase) {
    core.drop('BAD_SECRET', 'auth phrases differ: possible man in the middle');
    return null;
  }
  return { answer: { ...card, secret: raw.secret, authPhrase: phrase }, signPub, boxPub, secret };
}

function addContactFromAnswer(
  core: CoreContext,
  a: NonNullable<ReturnType<typeof openAnswer>>,
  address: string | null,
  domain: string | null,
  status: ContactRecord['status'],
  name?: string,
): ContactRecord {
  const existing = core.state.contacts.get(a.answer.uuid);
  // The answerer's card address is its own claim (issue 12 #16): used only when plausible.
  let claimed = a.answer.address;
  if (claimed !== null && !isPlausibleAddress(claimed, core.state.address)) {
    core.drop('BAD_ADDRESS', `contact answer claims ${claimed}`);
    claimed = null;
  }
  const c: ContactRecord = {
    uuid: a.answer.uuid,
    name: name ?? (a.answer.name || existing?.name || a.answer.uuid.slice(0, 8)),
    signPub: a.signPub,
    boxPub: a.boxPub,
    secret: a.secret,
    address: address ?? claimed ?? existing?.address ?? null,
    status: existing && existing.status === 'active' && toB64u(existing.secret) === a.answer.secret ? 'active' : status,
    lastSeen: existing?.lastSeen ?? null,
    addedAt: existing?.addedAt ?? core.now,
    domain,
  };
  core.forgetKeys(c.uuid);
  core.state.contacts.set(c.uuid, c);
  saveContact(core, c);
  return c;
}

/** `mesh add <code>`: sends contact_req to the invite's UUID — address hints first, then through contacts, then peers with a domain. */
export function startAdd(core: CoreContext, commandId: number, code: string, name?: string): void {
  const inv = decodeInvite(code);
  if (inv.expiresAt <= core.now) throw MeshError.badInvite('it has expired');
  if (inv.uuid === core.self.uuid) throw MeshError.invalidArgument('this is your own invite code: give it to a friend');
  const existing = core.state.contacts.get(inv.uuid);
  if (existing && existing.status === 'active')
    throw new MeshError('ALREADY_CONTACT', `${existing.name} (${existing.uuid}) is already your contact`);
  const nonce = core.random(12);
  const ct = aeadSeal(inviteKey(inv.secret), nonce, utf8(JSON.stringify(myCard(core))), reqAad(inv.uuid));
  const packed = new Uint8Array(12 + ct.length);
  packed.set(nonce, 0);
  packed.set(ct, 12);
  const body: ContactReqBody = { to: inv.uuid, hops: 1, invite: inviteId(inv.secret), encrypted: toB64u(packed) };
  const hints: Via[] = inv.addresses
    .filter((a) => a !== core.state.address)
    .map((address) => ({ address, domain: null }));
  // Bounded (issue 12 #19): at most ADD_MAX_ASK contacts carry it (those holding a referral for the
  // inviter first), each flooding at most RELAY_FANOUT further; peers with a domain stay the last resort.
  const order = searchOrder(core, inv.uuid, core.now);
  const people = order.filter((c) => c.domain === null);
  if (people.length > ADD_MAX_ASK)
    core.drop('LIMIT_FANOUT', `mesh add: ${people.length - ADD_MAX_ASK} contacts not asked`);
  const asked = [...people.slice(0, ADD_MAX_ASK), ...order.filter((c) => c.domain !== null)];
  const queue: Via[] = [...hints, ...asked.map((c) => ({ contact: c.uuid }))];
  // A key per attempt: a second `mesh add` of the same code runs beside the first, as its own command.
  const meshId = core.newId();
  core.startRouted({
    key: `add:${inv.uuid}:${meshId}`,
    meshId,
    startedAt: core.now,
    type: 'contact_req',
    body,
    kind: 'contact_req',
    queue,
    inFlight: [],
    deadline: core.now,
    purpose: { kind: 'add', commandId, inviter: inv.uuid, name, hadTargets: queue.length > 0 },
  });
}

/** The inviter's sealed answer to `mesh add`: add it as a pending contact and answer the command. */
export function addAnswered(
  core: CoreContext,
  s: SearchRecord,
  purpose: Extract<SearchPurpose, { kind: 'add' }>,
  resp: OkResponse,
  via: Via,
): boolean {
  const a = openAnswer(core, resp, s.meshId, purpose.inviter);
  if (!a) return false;
  const direct = 'address' in via ? via.address : null;
  const c = addContactFromAnswer(core, a, direct, null, 'pending', purpose.name);
  core.result(purpose.commandId, { uuid: c.uuid, name: c.name, authPhrase: a.answer.authPhrase });
  return true;
}

/** Nobody reached the inviter. */
export function addExhausted(core: CoreContext, purpose: Extract<SearchPurpose, { kind: 'add' }>): void {
  core.fail(
    purpose.commandId,
    'UNREACHABLE',
    purpose.hadTargets
      ? 'Could not reach the inviter: check that their node is running and reachable, then try again.'
      : 'The invite has no address and you have no contacts to ask: ask your friend for an invite with their address, or add a peer with a domain (mesh start --bootstrap URL).',
  );
}

/** `--bootstrap URL`: first contact with a peer with a domain (signed, card in clear). */
export function startBootstrap(core: CoreContext, commandId: number, address: string, domain: string | null): void {
  if (!isAddress(address)) throw MeshError.invalidArgument(`not an address: ${address}`);
  const body: ContactReqBody = { to: null, hops: 1, card: myCard(core) };
  const meshId = core.newId();
  core.startRouted({
    key: `bootstrap:${address}:${meshId}`,
    meshId,
    startedAt: core.now,
    type: 'contact_req',
    body,
    kind: 'contact_req',
    queue: [{ address, domain }],
    inFlight: [],
    deadline: core.now,
    purpose: { kind: 'bootstrap', commandId, address, domain },
  });
}

/** The peer with a domain added us: it is an active contact at once. */
export function bootstrapAnswered(
  core: CoreContext,
  s: SearchRecord,
  purpose: Extract<SearchPurpose, { kind: 'bootstrap' }>,
  resp: OkResponse,
): boolean {
  const a = openAnswer(core, resp, s.meshId, null);
  if (!a) return false;
  const c = addContactFromAnswer(core, a, purpose.address, purpose.domain, 'active');
  core.result(purpose.commandId, { uuid: c.uuid, name: c.name, authPhrase: a.answer.authPhrase });
  core.contactSeen(c, purpose.address);
  return true;
}

/** The peer with a domain did not accept us. */
export function bootstrapExhausted(core: CoreContext, purpose: Extract<SearchPurpose, { kind: 'bootstrap' }>): void {
  core.fail(
    purpose.commandId,
    'UNREACHABLE',
    `The peer with a domain at ${purpose.address} did not accept us: check the URL and that it runs with --public.`,
  );
}

/** Handles a contact_req: for us → open, record a pending request, answer sealed; else relay by UUID. */
export function handleContactReq(core: CoreContext, ctx: InboundContext, body: ContactReqBody): void {
  if (body.to !== null && body.to !== core.self.uuid) {
    if (!ctx.sender && !core.cfg.isPublic)
      return core.respondError(ctx.requestId, 'UNKNOWN_SENDER', 'this node relays for its contacts only');
    return relay(core, ctx, 'contact_req', body.to, body.hops, { ...body });
  }
  let card: ContactCard | null;
  let usedInvite: string | null = null;
  if (body.invite !== undefined && body.encrypted !== undefined) {
    // Recipient-bound first contact (issue 12 #13): an invite request names its recipient in `to`,
    // which the signature (body hash) and the card's AEAD data both cover; one naming nobody is refused.
    if (body.to !== core.self.uuid)
      return core.respondError(ctx.requestId, 'BAD_REQUEST', 'an invite request must name its recipient in "to"');
    const spent = core.state.spentInvites.get(body.invite);
    const inv = core.state.invites.get(body.invite) ?? spent?.invite;
    if (!inv || inv.expiresAt <= core.now)
      return core.respondError(ctx.requestId, 'BAD_SECRET', 'unknown or expired invite: ask for a new one');
    const packed = fromB64u(body.encrypted);
    const pt =
      packed.length > 12
        ? aeadOpen(inviteKey(inv.secret), packed.subarray(0, 12), packed.subarray(12), reqAad(core.self.uuid))
        : null;
    if (!pt) return core.respondError(ctx.requestId, 'BAD_SECRET', 'the request does not open with the invite secret');
    card = validateCard(decodeJson(pt));
    // A spent invite only answers the requester that spent it (its answer may have been lost).
    if (spent && card && card.uuid !== spent.uuid)
      return core.respondError(ctx.requestId, 'BAD_SECRET', 'this invite was already used');
    usedInvite = inv.id;
  } else {
    if (!core.cfg.isPublic && !core.cfg.acceptAll)
      return core.respondError(
        ctx.requestId,
        'UNKNOWN_SENDER',
        'this node accepts contact requests with an invite only',
      );
    if (!ctx.stranger)
      return core.respondError(
        ctx.requestId,
        'BAD_SIGNATURE',
        'a request without an invite must be signed by the requester',
      );
    card = body.card ?? null;
  }
  if (!card) return core.respondError(ctx.requestId, 'BAD_REQUEST', 'malformed contact card');
  const signPub = fromB64u(card.signPub);
  const boxPub = fromB64u(card.boxPub);
  if (!checkUuid(card.uuid, signPub, boxPub))
    return core.respondError(ctx.requestId, 'BAD_SIGNATURE', 'the card keys do not match its UUID');
  if (ctx.stranger && (ctx.headers.from !== card.uuid || toB64u(ctx.stranger.signPub) !== card.signPub))
    return core.respondError(ctx.requestId, 'BAD_SIGNATURE', 'the signer is not the requester');
  const existing = core.state.contacts.get(card.uuid);
  let pending = core.state.requests.get(card.uuid);
  let secret: Uint8Array;
  let phrase: string;
  if (existing && toB64u(existing.signPub) === card.signPub) {
    secret = existing.secret;
    phrase = authPhrase(core.self, existing, secret);
  } else if (pending && toB64u(pending.signPub) === card.signPub) {
    secret = pending.secret;
    phrase = pending.authPhrase;
  } else {
    // Budgets (issue 12 #6): pending requests, and contacts a --accept-all node adds for strangers.
    if (core.state.requests.size >= MAX_PENDING_REQUESTS) {
      core.drop('LIMIT_REQUESTS', `${core.state.requests.size} pending requests`);
      return core.respondError(ctx.requestId, 'OVER_LIMIT', 'this node holds too many pending contact requests');
    }
    if (core.cfg.acceptAll && usedInvite === null && core.state.contacts.size >= MAX_ACCEPT_ALL_CONTACTS) {
      core.drop('LIMIT_CONTACTS', `${core.state.contacts.size} contacts`);
      return core.respondError(ctx.requestId, 'OVER_LIMIT', 'this node accepts no more contacts');
    }
    // "generate auth_phrase and secret → user"
    secret = core.random(32);
    phrase = authPhrase(core.self, { signPub, boxPub }, secret);
    const address = requesterAddress(core, ctx, card, usedInvite !== null);
    pending = {
      uuid: card.uuid,
      name: card.name,
      signPub,
      boxPub,
      secret,
      authPhrase: phrase,
      address,
      receivedAt: core.now,
    };
    core.state.requests.set(card.uuid, pending);
    core.persist({ op: 'request:put', request: { ...pending } });
    core.emit({ event: 'contact:request', uuid: card.uuid, name: card.name, authPhrase: phrase });
  }
  if (usedInvite && core.state.invites.has(usedInvite)) {
    // One-time invite: once it opened a request it is spent (remembered in memory for retries).
    core.state.spentInvites.set(usedInvite, { invite: core.state.invites.get(usedInvite)!, uuid: card.uuid });
    core.state.invites.delete(usedInvite);
    core.persist({ op: 'invite:delete', id: usedInvite });
  }
  const answer: ContactAnswerSealed = { ...myCard(core), secret: toB64u(secret), authPhrase: phrase };
  const data = toB64u(sealTo(core.self, boxPub, utf8(JSON.stringify(answer)), answerAad(ctx.headers.id), core.random));
  core.respondOk(ctx.upstream, data);
  // "→ reply"; a peer with a domain that accepts everyone adds at once.
  if (core.cfg.acceptAll && core.state.requests.has(card.uuid)) acceptRequest(core, card.uuid);
}

/**
 * Where we will reach a new requester. A stranger without an invite speaks to us directly: the socket
 * it came from is where it is, whatever its card claims (issue 12 #6: an --accept-all node must not
 * announce to addresses a stranger picks). An invite holder's card address is used when plausible
 * (it may come through relays), else the socket's when it spoke directly.
 */
function requesterAddress(core: CoreContext, ctx: InboundContext, card: ContactCard, invited: boolean): string | null {
  const direct = ctx.stranger ? addressFrom(core, ctx) : null;
  if (!invited) return direct;
  if (card.address !== null && isPlausibleAddress(card.address, core.state.address)) return card.address;
  if (card.address !== null) core.drop('BAD_ADDRESS', `contact card claims ${card.address}`);
  return direct;
}

/** `mesh accept <uuid>`: the user compared the auth phrase; add the contact and "send connect". */
export function acceptRequest(core: CoreContext, uuid: string): { uuid: string } {
  const req = core.state.requests.get(uuid);
  if (!req) throw MeshError.requestUnknown(uuid);
  const c = contactFromRequest(core, req);
  core.state.requests.delete(uuid);
  core.forgetKeys(uuid);
  core.state.contacts.set(uuid, c);
  core.persist({ op: 'contact:put', contact: { ...c } }, { op: 'request:delete', uuid });
  core.emit({ event: 'contact:added', uuid, name: c.name });
  core.announceTo(c, true);
  return { uuid };
}

function contactFromRequest(core: CoreContext, req: PendingRequestRecord): ContactRecord {
  return {
    uuid: req.uuid,
    name: req.name,
    signPub: req.signPub,
    boxPub: req.boxPub,
    secret: req.secret,
    address: req.address,
    status: 'active',
    lastSeen: null,
    addedAt: core.now,
    domain: null,
  };
}

/** `mesh reject <uuid>`: forget the request; nothing is sent. */
export function rejectRequest(core: CoreContext, uuid: string): { uuid: string } {
  if (!core.state.requests.delete(uuid)) throw MeshError.requestUnknown(uuid);
  // The invite it spent answers its retries no more (issue 12 #12): a rejected requester cannot
  // open a new pending request with it.
  for (const [id, spent] of [...core.state.spentInvites]) if (spent.uuid === uuid) core.state.spentInvites.delete(id);
  core.persist({ op: 'request:delete', uuid });
  return { uuid };
}
