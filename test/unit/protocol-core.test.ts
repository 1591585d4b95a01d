/**
 * One MeshCore driven directly with hand-built request events: one test per branch of the seed's
 * onmessage / sendmessage / addcontact / auth charts. Requests are built exactly as `MeshCore.send`
 * builds them (requestSigningInput + link-key proof, or Ed25519 signature for first contact).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aeadOpen,
  aeadSeal,
  authPhrase,
  computeProof,
  decodeInvite,
  deriveLinkKey,
  deriveUuid,
  encodeInvite,
  fromB64u,
  generateKeyPairs,
  inviteId,
  inviteKey,
  messageKey,
  openSealed,
  requestSigningInput,
  responseSigningInput,
  sealTo,
  signEd25519,
  toB64u,
  utf8,
  verifyEd25519,
} from '../../src/crypto/index.ts';
import { decodeJson, encodeJson, isPlausibleAddress } from '../../src/protocol/codec.ts';
import type { CoreInit } from '../../src/protocol/config.ts';
import { messageMaxAge, resolveConfig } from '../../src/protocol/config.ts';
import {
  ADD_MAX_ASK,
  DELIVERED_RETENTION_MS,
  INBOX_MAX_PER_CONTACT,
  INBOX_WINDOW_MS,
  MAX_ACCEPT_ALL_CONTACTS,
  MAX_CONTACT_REFERRALS_PER_VIA,
  MAX_PENDING_REQUESTS,
  MOVED_REFERRAL_INTERVAL_MS,
  OUTBOX_EXPIRY_MS,
  OUTBOX_HISTORY_MS,
  RELAY_FANOUT,
  RELAY_MAX_IN_FLIGHT,
  REPLAY_WINDOW_MS,
} from '../../src/protocol/constants.ts';
import type { AppEvent, CoreEvent, Effect } from '../../src/protocol/events.ts';
import { ipAad, ipAnswerAad, ipAnswerProofInput, ipProofInput } from '../../src/protocol/handlers/locate.ts';
import type { ContactAnswerSealed, ContactCard, IpAnswerSealed, MessageType } from '../../src/protocol/messages.ts';
import { type CoreSnapshot, MeshCore } from '../../src/protocol/node.ts';
import { createSeenCache, seenAdd, seenHas } from '../../src/protocol/seen-cache.ts';
import { indexOutbox } from '../../src/protocol/state.ts';
import type { ContactRecord, ContactStatus, PersistOp, SelfRecord } from '../../src/protocol/types.ts';
import { seededRandom } from '../../src/testing/testnet.ts';

const T0 = 1_767_225_600_000;
const MIN = 60_000;
const rng = seededRandom(4242);
const rand = (n: number) => rng.bytes(n);

// ---------------------------------------------------------------- identities and cores

interface Ident {
  self: SelfRecord;
  uuid: string;
  address: string;
}

let identCount = 0;
function ident(name: string): Ident {
  const keys = generateKeyPairs(rand);
  const uuid = deriveUuid(keys.signPub, keys.boxPub);
  identCount++;
  return { self: { uuid, name, ...keys, createdAt: T0 }, uuid, address: `10.1.0.${identCount}:7575` };
}

function contactOf(
  other: Ident,
  secret: Uint8Array,
  o: { status?: ContactStatus; address?: string | null; lastSeen?: number; domain?: string | null } = {},
): ContactRecord {
  return {
    uuid: other.uuid,
    name: other.self.name,
    signPub: other.self.signPub,
    boxPub: other.self.boxPub,
    secret,
    address: o.address === undefined ? other.address : o.address,
    status: o.status ?? 'active',
    lastSeen: o.lastSeen ?? T0,
    addedAt: T0,
    domain: o.domain ?? null,
  };
}

/** A node under test (`me`) with some contacts; `secrets` keeps the per-contact secrets. */
class Rig {
  readonly me: Ident;
  readonly core: MeshCore;
  readonly secrets = new Map<string, Uint8Array>();
  now = T0;
  #req = 1000;
  #cmd = 1;

  constructor(
    peers: { who: Ident; status?: ContactStatus; address?: string | null; lastSeen?: number }[],
    init: CoreInit = {},
    snapshot: Partial<CoreSnapshot> = {},
    me = ident('me'),
  ) {
    this.me = me;
    const contacts: ContactRecord[] = [];
    for (const p of peers) {
      const s = rand(32);
      this.secrets.set(p.who.uuid, s);
      contacts.push(contactOf(p.who, s, p));
    }
    this.core = new MeshCore(
      {
        self: me.self,
        addresses: [me.address],
        contacts,
        referrals: [],
        invites: [],
        requests: [],
        outbox: [],
        deliveredIds: [],
        ...snapshot,
      },
      { random: (n) => rng.bytes(n) },
      init,
      T0,
    );
  }

  handle(e: CoreEvent): Effect[] {
    return this.core.handle(e, this.now);
  }
  command(command: Extract<CoreEvent, { type: 'command' }>['command']): Effect[] {
    return this.handle({ type: 'command', commandId: this.#cmd++, command });
  }
  nextRequestId(): number {
    return this.#req++;
  }

  /** A request from contact `from` authenticated with Mesh-Secret under our shared secret (or `secret`). */
  fromContact(
    from: Ident,
    type: MessageType,
    body: unknown,
    o: { id?: string; ts?: number; port?: number | null; secret?: Uint8Array; remote?: string; raw?: Uint8Array } = {},
  ): Extract<CoreEvent, { type: 'request' }> {
    const secret = o.secret ?? this.secrets.get(from.uuid) ?? rand(32);
    const link = deriveLinkKey(from.self.boxPriv, this.me.self.boxPub, secret, from.uuid, this.me.uuid);
    return buildRequest(
      from,
      type,
      body,
      { ...o, proof: (input) => ({ 'mesh-secret': computeProof(link, input) }) },
      this,
    );
  }

  /** A first-contact request from `from`, signed with its Ed25519 key (Mesh-Pub-Key + Mesh-Signature). */
  fromStranger(
    from: Ident,
    type: MessageType,
    body: unknown,
    o: { id?: string; ts?: number; port?: number | null; remote?: string; signer?: Ident } = {},
  ): Extract<CoreEvent, { type: 'request' }> {
    const signer = o.signer ?? from;
    return buildRequest(
      from,
      type,
      body,
      {
        ...o,
        proof: (input) => {
          const pub = new Uint8Array(64);
          pub.set(from.self.signPub, 0);
          pub.set(from.self.boxPub, 32);
          return {
            'mesh-pub-key': toB64u(pub),
            'mesh-signature': toB64u(signEd25519(signer.self.signPriv, input)),
          };
        },
      },
      this,
    );
  }

  /** A 200 answer to one of our sends, with the proof under the link key with `peer`. */
  okResponse(send: SendFx, peer: Ident, o: { data?: string; observed?: string; wrongProof?: boolean } = {}): CoreEvent {
    const observed = o.observed ?? `${this.me.address.split(':')[0]}:40000`;
    const secret = o.wrongProof ? rand(32) : this.secrets.get(peer.uuid)!;
    const link = deriveLinkKey(peer.self.boxPriv, this.me.self.boxPub, secret, peer.uuid, this.me.uuid);
    const proof = computeProof(link, responseSigningInput(send.headers['mesh-id'], observed, o.data ?? ''));
    const body: Record<string, string> = { observed, secret: proof };
    if (o.data !== undefined) body.data = o.data;
    return { type: 'response', requestId: send.requestId, status: 200, body: encodeJson(body) };
  }
}

function buildRequest(
  from: Ident,
  type: MessageType,
  body: unknown,
  o: {
    id?: string;
    ts?: number;
    port?: number | null;
    remote?: string;
    raw?: Uint8Array;
    proof: (input: Uint8Array) => Record<string, string>;
  },
  rig: Rig,
): Extract<CoreEvent, { type: 'request' }> {
  const id = o.id ?? toB64u(rand(16));
  const ts = o.ts ?? rig.now;
  const port = o.port === undefined ? Number(from.address.split(':')[1]) : o.port;
  const bytes = o.raw ?? encodeJson(body);
  const input = requestSigningInput({ version: 1, type, from: from.uuid, id, ts, port, body: bytes });
  const headers: Record<string, string> = {
    'mesh-version': '1',
    'mesh-type': type,
    'mesh-from': from.uuid,
    'mesh-id': id,
    'mesh-ts': String(ts),
    ...o.proof(input),
  };
  if (port !== null) headers['mesh-port'] = String(port);
  return {
    type: 'request',
    requestId: rig.nextRequestId(),
    remote: o.remote ?? `${from.address.split(':')[0]}:40000`,
    headers,
    body: bytes,
  };
}

// ---------------------------------------------------------------- effect helpers

type SendFx = Extract<Effect, { type: 'send' }>;
type RespondFx = Extract<Effect, { type: 'respond' }>;

const sends = (fx: Effect[], kind?: string): SendFx[] =>
  fx.filter((e): e is SendFx => e.type === 'send' && (kind === undefined || e.kind === kind));
const emits = (fx: Effect[], event?: AppEvent['event']): AppEvent[] =>
  fx.flatMap((e) => (e.type === 'emit' && (event === undefined || e.data.event === event) ? [e.data] : []));
const ops = (fx: Effect[], op?: PersistOp['op']): PersistOp[] =>
  fx.flatMap((e) => (e.type === 'persist' ? e.ops : [])).filter((p) => op === undefined || p.op === op);
const drops = (fx: Effect[]) => fx.flatMap((e) => (e.type === 'drop' ? [e.reason] : []));
const bodyOf = (e: { body: Uint8Array }) => decodeJson(e.body) as Record<string, unknown>;

function onlyRespond(fx: Effect[]): RespondFx {
  const rs = fx.filter((e): e is RespondFx => e.type === 'respond');
  assert.equal(rs.length, 1, `exactly one respond effect, got ${rs.length}`);
  return rs[0];
}

const onlyRespondCount = (fx: Effect[]) => fx.filter((e) => e.type === 'respond').length;

function assertError(fx: Effect[], status: number, code: string): void {
  const r = onlyRespond(fx);
  const b = bodyOf(r);
  assert.equal(b.error, code, `error code (message: ${String(b.message)})`);
  assert.equal(r.status, status);
  assert.equal(typeof b.message, 'string');
}

function assertOk(fx: Effect[]): Record<string, unknown> {
  const r = onlyRespond(fx);
  const b = bodyOf(r);
  assert.equal(r.status, 200, `status 200 (got ${JSON.stringify(b)})`);
  return b;
}

/** Seals a message to `to` the way message.ts sends it. */
function messageBody(from: Ident, to: Ident, secret: Uint8Array, plain: { id: string; text: string; sentAt: number }) {
  const link = deriveLinkKey(from.self.boxPriv, to.self.boxPub, secret, from.uuid, to.uuid);
  const nonce = rand(12);
  const ct = aeadSeal(
    messageKey(link, from.uuid),
    nonce,
    utf8(JSON.stringify(plain)),
    utf8(`mesh-v1-message|${from.uuid}|${to.uuid}`),
  );
  return { nonce: toB64u(nonce), ct: toB64u(ct) };
}

/**
 * The sealed part of an IP search from `origin` to `target` (search id = the request's Mesh-Id),
 * sealed at `ts` (null: a v1 part without the sealed timestamp).
 */
function ipBody(
  origin: Ident,
  target: Ident,
  secret: Uint8Array,
  searchId: string,
  ip: string,
  hops = 1,
  ts: number | null = T0,
) {
  const link = deriveLinkKey(origin.self.boxPriv, target.self.boxPub, secret, origin.uuid, target.uuid);
  const sealed = {
    from: origin.uuid,
    ip,
    proof: computeProof(link, ipProofInput(searchId, ip)),
    ...(ts === null ? {} : { ts }),
  };
  const encrypted = toB64u(
    sealTo(origin.self, target.self.boxPub, utf8(JSON.stringify(sealed)), ipAad(target.uuid), rand),
  );
  return { to: target.uuid, hops, encrypted };
}

function card(who: Ident, address: string | null = who.address): ContactCard {
  return {
    uuid: who.uuid,
    name: who.self.name,
    signPub: toB64u(who.self.signPub),
    boxPub: toB64u(who.self.boxPub),
    address,
  };
}

/** A contact_req body using an invite secret, as startAdd builds it. */
function inviteReqBody(requester: Ident, to: string, secret: Uint8Array, hops = 1) {
  const nonce = rand(12);
  const ct = aeadSeal(
    inviteKey(secret),
    nonce,
    utf8(JSON.stringify(card(requester))),
    utf8(`mesh-v1-contact_req|${to}`),
  );
  const packed = new Uint8Array(12 + ct.length);
  packed.set(nonce, 0);
  packed.set(ct, 12);
  return { to, hops, invite: inviteId(secret), encrypted: toB64u(packed) };
}

function openContactAnswer(requester: Ident, searchId: string, data: string): ContactAnswerSealed {
  const opened = openSealed(requester.self, fromB64u(data), utf8(`mesh-v1-contact_resp|${searchId}`));
  assert.ok(opened, 'the answer opens for the requester');
  return decodeJson(opened.plaintext) as ContactAnswerSealed;
}

// ================================================================ onmessage: sender / auth

describe('onmessage: sender and auth', () => {
  it('sender not a contact → 401 UNKNOWN_SENDER; nothing else happens when no contact lived at its address', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const x = ident('stranger');
    const fx = rig.handle(rig.fromContact(x, 'referral', { referent: x.uuid, hops: 0 }));
    assertError(fx, 401, 'UNKNOWN_SENDER');
    assert.deepEqual(sends(fx), []);
    assert.deepEqual(drops(fx), ['UNKNOWN_SENDER']);
    assert.equal(rig.core.contact(b.uuid)!.status, 'active');
  });

  it('sender not a contact, speaking from a contact’s ip:port → no state change, one authenticated check of that contact (issue 12 #4)', () => {
    const c = ident('c'); // the contact that used to live at the address
    const b = ident('b');
    const d = ident('d');
    const rig = new Rig([{ who: c }, { who: b }, { who: d }]);
    const x = ident('stranger');
    // x speaks from where c lives (same host, same Mesh-Port): shared NAT, or c moved away.
    const from = () =>
      rig.fromContact(
        x,
        'message',
        { nonce: 'A'.repeat(16), ct: 'A'.repeat(22) },
        { remote: `${c.address.split(':')[0]}:51234`, port: Number(c.address.split(':')[1]) },
      );
    const fx = rig.handle(from());
    assertError(fx, 401, 'UNKNOWN_SENDER');
    assert.equal(rig.core.contact(c.uuid)!.status, 'active', 'unauthenticated input changes no contact');
    assert.deepEqual(ops(fx, 'contact:put'), []);
    assert.deepEqual(emits(fx, 'contact:offline'), []);
    assert.deepEqual(sends(fx, 'ip'), [], 'no search on an unauthenticated claim');
    const probe = sends(fx, 'announce');
    assert.deepEqual(
      probe.map((s) => s.address),
      [c.address],
      'one authenticated announce to c checks it',
    );
    // More of the same within PROBE_INTERVAL_MS: no more checks, counted as LIMIT_PROBES.
    const again = rig.handle(from());
    assert.deepEqual(sends(again, 'announce'), []);
    assert.ok(drops(again).includes('LIMIT_PROBES'));
    // The check fails (c is really gone): now c turns inactive, on our own authenticated evidence.
    const fail = rig.handle({ type: 'send-failed', requestId: probe[0].requestId, reason: 'CONNECT_FAILED' });
    assert.equal(rig.core.contact(c.uuid)!.status, 'inactive');
    assert.deepEqual(emits(fail, 'contact:offline'), [{ event: 'contact:offline', uuid: c.uuid }]);
    assert.equal(rig.core.contact(b.uuid)!.status, 'active');
  });

  it('a signed stranger sending anything but contact_req → 401 UNKNOWN_SENDER', () => {
    const rig = new Rig([{ who: ident('b') }]);
    const x = ident('stranger');
    assertError(rig.handle(rig.fromStranger(x, 'referral', { referent: x.uuid, hops: 0 })), 401, 'UNKNOWN_SENDER');
  });

  it('a contact with a wrong Mesh-Secret → 401 UNKNOWN_SENDER (the same answer as a stranger: no contact oracle), address not updated', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.handle(
      rig.fromContact(
        b,
        'referral',
        { referent: b.uuid, hops: 0 },
        { secret: rand(32), remote: '10.9.9.9:1', port: 7000 },
      ),
    );
    assertError(fx, 401, 'UNKNOWN_SENDER');
    assert.equal(rig.core.contact(b.uuid)!.address, b.address);
    assert.deepEqual(ops(fx), []);
  });

  it('a valid proof over a different body → UNKNOWN_SENDER (the body hash is covered)', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const ev = rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 });
    ev.body = encodeJson({ referent: b.uuid, hops: 1 });
    assertError(rig.handle(ev), 401, 'UNKNOWN_SENDER');
  });

  it('replayed (from, id) → 409 REPLAYED', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const ev = rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 });
    assertOk(rig.handle(ev));
    rig.now += 1000;
    const fx = rig.handle({ ...ev, requestId: rig.nextRequestId() });
    assertError(fx, 409, 'REPLAYED');
    assert.deepEqual(drops(fx), ['REPLAYED']);
  });

  it('the same Mesh-Id from another sender is not a replay', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    const id = toB64u(rand(16));
    assertOk(rig.handle(rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }, { id })));
    assertOk(rig.handle(rig.fromContact(c, 'referral', { referent: c.uuid, hops: 0 }, { id })));
  });

  const tsCases: { desc: string; input: number; expected: 'ok' | 'REPLAYED' }[] = [
    { desc: 'ts exactly 5 min in the past', input: -5 * MIN, expected: 'ok' },
    { desc: 'ts exactly 5 min in the future', input: 5 * MIN, expected: 'ok' },
    { desc: 'ts 5 min + 1 ms in the past', input: -5 * MIN - 1, expected: 'REPLAYED' },
    { desc: 'ts 5 min + 1 ms in the future', input: 5 * MIN + 1, expected: 'REPLAYED' },
    { desc: 'ts one hour old', input: -60 * MIN, expected: 'REPLAYED' },
  ];
  for (const { desc, input, expected } of tsCases)
    it(`${desc} → ${expected}`, () => {
      const b = ident('b');
      const rig = new Rig([{ who: b }]);
      const fx = rig.handle(rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }, { ts: T0 + input }));
      if (expected === 'ok') assertOk(fx);
      else assertError(fx, 409, 'REPLAYED');
    });

  it('an old request rejected for its ts is not remembered: nothing persisted', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }, { ts: T0 - 6 * MIN }));
    assertError(fx, 409, 'REPLAYED');
    assert.deepEqual(ops(fx), []);
  });

  it('the sender’s address changed → contact updated and referral (hops 1) to the other active contacts', () => {
    const b = ident('b');
    const c = ident('c');
    const d = ident('d');
    const e = ident('e');
    const rig = new Rig([{ who: b }, { who: c }, { who: d }, { who: e, status: 'inactive' }], { referralRadius: 1 });
    const fx = rig.handle(
      rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }, { remote: '192.168.5.5:50000', port: 7600 }),
    );
    assertOk(fx);
    assert.equal(rig.core.contact(b.uuid)!.address, '192.168.5.5:7600');
    assert.deepEqual(emits(fx, 'contact:address'), [
      { event: 'contact:address', uuid: b.uuid, address: '192.168.5.5:7600' },
    ]);
    assert.ok(ops(fx, 'contact:put').some((p) => p.op === 'contact:put' && p.contact.address === '192.168.5.5:7600'));
    const refs = sends(fx, 'referral');
    assert.deepEqual(
      refs.map((s) => s.address).sort(),
      [c.address, d.address].sort(),
      'not to b itself, not to inactive e',
    );
    for (const s of refs) {
      assert.equal(s.headers['mesh-type'], 'referral');
      assert.deepEqual(bodyOf(s), { referent: b.uuid, hops: 1 });
    }
  });

  it('the sender’s address unchanged → no referrals sent', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }));
    assertOk(fx);
    assert.deepEqual(sends(fx), []);
    assert.deepEqual(emits(fx, 'contact:address'), []);
  });

  it('without Mesh-Port the contact keeps its known port and takes the new host', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    assertOk(
      rig.handle(
        rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }, { remote: '10.77.0.1:40000', port: null }),
      ),
    );
    assert.equal(rig.core.contact(b.uuid)!.address, `10.77.0.1:${b.address.split(':')[1]}`);
  });

  it('an inactive contact that talks to us is active again (contact:online)', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b, status: 'inactive' }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 }));
    assertOk(fx);
    assert.equal(rig.core.contact(b.uuid)!.status, 'active');
    assert.equal(emits(fx, 'contact:online').length, 1);
  });

  it('a 200 answer proves itself under the link key (secret = HMAC over id, observed, data)', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const ev = rig.fromContact(b, 'referral', { referent: b.uuid, hops: 0 });
    const body = assertOk(rig.handle(ev));
    assert.equal(body.observed, ev.remote);
    const link = deriveLinkKey(b.self.boxPriv, rig.me.self.boxPub, rig.secrets.get(b.uuid)!, b.uuid, rig.me.uuid);
    assert.equal(body.secret, computeProof(link, responseSigningInput(ev.headers['mesh-id'], ev.remote, '')));
  });
});

// ================================================================ referral

describe('onmessage: referral', () => {
  it('referent is self → ignored (200, nothing stored or sent)', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: rig.me.uuid, hops: 1 }));
    assertOk(fx);
    assert.deepEqual(ops(fx, 'referral:put'), []);
    assert.deepEqual(sends(fx), []);
    assert.deepEqual(rig.core.referrals(rig.me.uuid), []);
  });

  for (const radius of [1, 2]) {
    it(`new referral (hops 1) → stored; referralRadius ${radius} → ${radius > 1 ? 'forwarded with hops 2' : 'not forwarded'}`, () => {
      const b = ident('b');
      const c = ident('c');
      const d = ident('d');
      const x = ident('x');
      const rig = new Rig([{ who: b }, { who: c }, { who: d }, { who: x, status: 'inactive' }], {
        referralRadius: radius,
      });
      const z = ident('z');
      const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
      assertOk(fx);
      const stored = rig.core.referrals(z.uuid);
      assert.equal(stored.length, 1);
      assert.deepEqual(
        { via: stored[0].via, hops: stored[0].hops, expiresAt: stored[0].expiresAt },
        { via: b.uuid, hops: 1, expiresAt: T0 + rig.core.cfg.referralTtlMs },
      );
      assert.equal(ops(fx, 'referral:put').length, 1);
      const fwd = sends(fx, 'referral');
      if (radius === 1) assert.deepEqual(fwd, []);
      else {
        assert.deepEqual(fwd.map((s) => s.address).sort(), [c.address, d.address].sort());
        for (const s of fwd) assert.deepEqual(bodyOf(s), { referent: z.uuid, hops: 2 });
      }
    });
  }

  it('referral with hops = referralRadius is stored but not forwarded', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }], { referralRadius: 2 });
    const z = ident('z');
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 2 }));
    assertOk(fx);
    assert.equal(rig.core.referrals(z.uuid).length, 1);
    assert.deepEqual(sends(fx), []);
  });

  it('not forwarded back to the sender nor to the referent', () => {
    const b = ident('b');
    const z = ident('z');
    const rig = new Rig([{ who: b }, { who: z, status: 'inactive' }], { referralRadius: 3 });
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
    assert.deepEqual(sends(fx), []);
  });

  it('a referral about an active direct contact is ignored (direct beats any referral)', () => {
    const b = ident('b');
    const z = ident('z');
    const rig = new Rig([{ who: b }, { who: z }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
    assertOk(fx);
    assert.deepEqual(rig.core.referrals(z.uuid), []);
    assert.deepEqual(sends(fx), []);
  });

  it('longer than the best known → not forwarded; best route unchanged', () => {
    const b = ident('b');
    const c = ident('c');
    const d = ident('d');
    const rig = new Rig([{ who: b }, { who: c }, { who: d }], { referralRadius: 5 });
    const z = ident('z');
    rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
    rig.now += 1000;
    const fx = rig.handle(rig.fromContact(c, 'referral', { referent: z.uuid, hops: 3 }));
    assertOk(fx);
    assert.deepEqual(sends(fx), [], 'a longer referral is not forwarded');
    const best = [...rig.core.referrals(z.uuid)].sort((a, b2) => a.hops - b2.hops)[0];
    assert.deepEqual({ via: best.via, hops: best.hops }, { via: b.uuid, hops: 1 });
  });

  it('longer from a new via, with 3 vias already held → not stored at all', () => {
    const peers = [ident('b'), ident('c'), ident('d'), ident('e')];
    const rig = new Rig(
      peers.map((who) => ({ who })),
      { referralRadius: 1 },
    );
    const z = ident('z');
    for (const p of peers.slice(0, 3))
      assertOk(rig.handle(rig.fromContact(p, 'referral', { referent: z.uuid, hops: 1 })));
    assert.equal(rig.core.referrals(z.uuid).length, 3);
    const fx = rig.handle(rig.fromContact(peers[3], 'referral', { referent: z.uuid, hops: 2 }));
    assertOk(fx);
    assert.deepEqual(ops(fx, 'referral:put'), []);
    assert.ok(!rig.core.referrals(z.uuid).some((r) => r.via === peers[3].uuid));
  });

  it('shorter from the same via replaces its entry and is forwarded', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }], { referralRadius: 3 });
    const z = ident('z');
    rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 3 }));
    rig.now += 1000;
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
    assertOk(fx);
    assert.deepEqual(
      rig.core.referrals(z.uuid).map((r) => [r.via, r.hops]),
      [[b.uuid, 1]],
    );
    assert.deepEqual(
      sends(fx, 'referral').map((s) => [s.address, bodyOf(s)]),
      [[c.address, { referent: z.uuid, hops: 2 }]],
    );
  });

  it('shorter from another via becomes the best route and is forwarded', () => {
    const b = ident('b');
    const c = ident('c');
    const d = ident('d');
    const rig = new Rig([{ who: b }, { who: c }, { who: d }], { referralRadius: 3 });
    const z = ident('z');
    rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 2 }));
    rig.now += 1000;
    const fx = rig.handle(rig.fromContact(c, 'referral', { referent: z.uuid, hops: 1 }));
    const best = [...rig.core.referrals(z.uuid)].sort((a, b2) => a.hops - b2.hops)[0];
    assert.deepEqual({ via: best.via, hops: best.hops }, { via: c.uuid, hops: 1 });
    assert.deepEqual(
      sends(fx, 'referral')
        .map((s) => [s.address, bodyOf(s)])
        .sort(),
      [
        [b.address, { referent: z.uuid, hops: 2 }],
        [d.address, { referent: z.uuid, hops: 2 }],
      ].sort(),
    );
  });

  it('withdraw deletes the sender’s referral and forwards the withdrawal when it was the only route', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }], { referralRadius: 3 });
    const z = ident('z');
    rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1 }));
    assert.equal(rig.core.referrals(z.uuid).length, 1);
    rig.now += 1000;
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 1, withdraw: true }));
    assertOk(fx);
    assert.deepEqual(rig.core.referrals(z.uuid), []);
    assert.deepEqual(ops(fx, 'referral:delete'), [{ op: 'referral:delete', referent: z.uuid, via: b.uuid }]);
    assert.deepEqual(
      sends(fx, 'withdraw').map((s) => [s.address, bodyOf(s)]),
      [[c.address, { referent: z.uuid, hops: 2, withdraw: true }]],
    );
  });

  it('withdraw of an unknown referral changes nothing', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: ident('z').uuid, hops: 1, withdraw: true }));
    assertOk(fx);
    assert.deepEqual(ops(fx, 'referral:delete'), []);
    assert.deepEqual(sends(fx), []);
  });

  it('hops 0 about someone else → answered but dropped as BAD_REQUEST', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const z = ident('z');
    const fx = rig.handle(rig.fromContact(b, 'referral', { referent: z.uuid, hops: 0 }));
    assertOk(fx);
    assert.deepEqual(drops(fx), ['BAD_REQUEST']);
    assert.deepEqual(rig.core.referrals(z.uuid), []);
  });
});

// ================================================================ IP

describe('onmessage: IP', () => {
  it('for self → 200 with our address sealed back; the searcher’s address updated; "send connect"', () => {
    const a = ident('a'); // searcher (moved)
    const b = ident('b'); // relay
    const c = ident('c'); // another contact: learns a referral about a
    const rig = new Rig([{ who: a }, { who: b }, { who: c }]);
    const id = toB64u(rand(16));
    const newIp = '172.16.0.9:7575';
    const fx = rig.handle(rig.fromContact(b, 'IP', ipBody(a, rig.me, rig.secrets.get(a.uuid)!, id, newIp, 2), { id }));
    const body = assertOk(fx);
    assert.equal(typeof body.data, 'string');
    const opened = openSealed(a.self, fromB64u(body.data as string), ipAnswerAad(id));
    assert.ok(opened, 'the answer is sealed to the searcher');
    assert.deepEqual(opened.senderBoxPub, rig.me.self.boxPub, 'and authenticated as us');
    const ans = decodeJson(opened.plaintext) as IpAnswerSealed;
    assert.equal(ans.ip, rig.me.address);
    const link = deriveLinkKey(a.self.boxPriv, rig.me.self.boxPub, rig.secrets.get(a.uuid)!, a.uuid, rig.me.uuid);
    assert.equal(ans.proof, computeProof(link, ipAnswerProofInput(id, rig.me.address)));
    // the searcher's new address
    assert.equal(rig.core.contact(a.uuid)!.address, newIp);
    assert.deepEqual(emits(fx, 'contact:address'), [{ event: 'contact:address', uuid: a.uuid, address: newIp }]);
    // "send connect": a presence announce to the new address
    const announce = sends(fx, 'announce');
    // (with our contact digest: the contact has not acknowledged one yet)
    assert.deepEqual(
      announce.map((s) => {
        const { digest, ...rest } = bodyOf(s) as { digest?: string };
        return [s.address, rest, typeof digest];
      }),
      // the announce carries our advertised address and that it is dialable (PROTOCOL.md §15.3), and our digest
      [[newIp, { referent: rig.me.uuid, hops: 0, addr: rig.me.address, dialable: true }, 'string']],
    );
    // No referral wave: a's own announces tell the contacts that lost it; a searcher's answer adds nothing
    // (the simulator measured this wave as most of the cost of a relocation).
    assert.deepEqual(sends(fx, 'referral'), []);
  });

  it('for self, the same search id again → 409 DUPLICATE', () => {
    const a = ident('a');
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: a }, { who: b }, { who: c }]);
    const id = toB64u(rand(16));
    const ip = ipBody(a, rig.me, rig.secrets.get(a.uuid)!, id, '172.16.0.9:7575', 2);
    assertOk(rig.handle(rig.fromContact(b, 'IP', ip, { id })));
    assertError(rig.handle(rig.fromContact(c, 'IP', ip, { id })), 409, 'DUPLICATE');
  });

  it('for self, with a proof under the wrong secret → 401 BAD_SECRET, address unchanged', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }]);
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(b, 'IP', ipBody(a, rig.me, rand(32), id, '172.16.0.9:7575', 2), { id }));
    assertError(fx, 401, 'BAD_SECRET');
    assert.equal(rig.core.contact(a.uuid)!.address, a.address);
  });

  it('for self, sealed by someone who is not our contact → 401 UNKNOWN_SENDER', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const x = ident('x');
    const id = toB64u(rand(16));
    assertError(
      rig.handle(rig.fromContact(b, 'IP', ipBody(x, rig.me, rand(32), id, '1.2.3.4:7575', 2), { id })),
      401,
      'UNKNOWN_SENDER',
    );
  });

  it('for self, sealed part that does not open → 401 BAD_SECRET', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(b, 'IP', { to: rig.me.uuid, hops: 1, encrypted: toB64u(rand(200)) }, { id }));
    assertError(fx, 401, 'BAD_SECRET');
  });

  it('not for self, target is a direct contact → forwarded to it (hops+1, same id, same sealed part); its answer goes back', () => {
    const a = ident('a');
    const b = ident('b');
    const t = ident('t');
    const rig = new Rig([{ who: a }, { who: b }, { who: t }]);
    const id = toB64u(rand(16));
    const ip = ipBody(a, t, rand(32), id, '1.2.3.4:7575', 1);
    const fx = rig.handle(rig.fromContact(a, 'IP', ip, { id }));
    assert.equal(fx.filter((e) => e.type === 'respond').length, 0, 'the relay answers later');
    const fwd = sends(fx, 'ip-relay');
    assert.equal(fwd.length, 1);
    assert.equal(fwd[0].address, t.address);
    assert.equal(fwd[0].headers['mesh-id'], id);
    assert.equal(fwd[0].headers['mesh-from'], rig.me.uuid);
    assert.deepEqual(bodyOf(fwd[0]), { ...ip, hops: 2 });
    assert.ok(fx.some((e) => e.type === 'set-timer' && e.timer.kind === 'relay'));
    // t answers with sealed data → the relay answers upstream with the same data
    const data = toB64u(rand(120));
    const back = rig.handle(rig.okResponse(fwd[0], t, { data }));
    const up = assertOk(back);
    assert.equal(up.data, data);
    assert.ok(back.some((e) => e.type === 'clear-timer' && e.timer.kind === 'relay'));
  });

  it('not for self, referral known → relayed along it (not flooded)', () => {
    const a = ident('a');
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: a }, { who: b }, { who: c }], { searchRadius: 5 });
    const z = ident('z');
    rig.handle(rig.fromContact(c, 'referral', { referent: z.uuid, hops: 1 }));
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(a, 'IP', ipBody(a, z, rand(32), id, '1.2.3.4:7575', 1), { id }));
    assert.deepEqual(
      sends(fx, 'ip-relay').map((s) => s.address),
      [c.address],
    );
  });

  it('not for self, no route, hops < searchRadius → flooded to every active contact but the sender', () => {
    const a = ident('a');
    const b = ident('b');
    const c = ident('c');
    const d = ident('d');
    const rig = new Rig([{ who: a }, { who: b }, { who: c }, { who: d, status: 'inactive' }], { searchRadius: 2 });
    const z = ident('z');
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(a, 'IP', ipBody(a, z, rand(32), id, '1.2.3.4:7575', 1), { id }));
    const fwd = sends(fx, 'ip-relay');
    assert.deepEqual(fwd.map((s) => s.address).sort(), [b.address, c.address].sort());
    for (const s of fwd) assert.equal(bodyOf(s).hops, 2);
    // both downstream fail → UNREACHABLE upstream
    assert.equal(
      onlyRespondCount(rig.handle({ type: 'send-failed', requestId: fwd[0].requestId, reason: 'CONNECT_FAILED' })),
      0,
    );
    const last = rig.handle({
      type: 'response',
      requestId: fwd[1].requestId,
      status: 504,
      body: encodeJson({ error: 'UNREACHABLE', message: 'x' }),
    });
    assertError(last, 504, 'UNREACHABLE');
  });

  it('not for self, relay timer fires before any answer → 504 UNREACHABLE', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }], { searchRadius: 2 });
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(a, 'IP', ipBody(a, ident('z'), rand(32), id, '1.2.3.4:7575', 1), { id }));
    const timer = fx.find((e): e is Extract<Effect, { type: 'set-timer' }> => e.type === 'set-timer')!;
    rig.now = timer.at;
    assertError(rig.handle({ type: 'timer', timer: timer.timer }), 504, 'UNREACHABLE');
  });

  it('not for self, no route and hops = searchRadius → 504 UNREACHABLE, nothing sent', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }], { searchRadius: 2 });
    const id = toB64u(rand(16));
    const fx = rig.handle(rig.fromContact(a, 'IP', ipBody(a, ident('z'), rand(32), id, '1.2.3.4:7575', 2), { id }));
    assertError(fx, 504, 'UNREACHABLE');
    assert.deepEqual(sends(fx), []);
  });

  it('not for self, duplicate search id from another relay → 409 DUPLICATE, not re-flooded', () => {
    const a = ident('a');
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: a }, { who: b }, { who: c }], { searchRadius: 3 });
    const z = ident('z');
    const id = toB64u(rand(16));
    const ip = ipBody(a, z, rand(32), id, '1.2.3.4:7575', 1);
    assert.equal(sends(rig.handle(rig.fromContact(a, 'IP', ip, { id }))).length, 2);
    const fx = rig.handle(rig.fromContact(b, 'IP', { ...ip, hops: 2 }, { id }));
    assertError(fx, 409, 'DUPLICATE');
    assert.deepEqual(sends(fx), []);
  });
});

// ================================================================ message

describe('onmessage: message', () => {
  it('decrypt → deliver once + persist inbox + 200; same message id again → 200, no second deliver', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const plain = { id: 'm-1', text: 'hello there', sentAt: T0 - 10 };
    const fx = rig.handle(rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain)));
    assertOk(fx);
    const delivered = fx.filter((e) => e.type === 'deliver');
    assert.deepEqual(delivered, [
      { type: 'deliver', message: { id: 'm-1', from: b.uuid, text: 'hello there', sentAt: T0 - 10, receivedAt: T0 } },
    ]);
    assert.deepEqual(ops(fx, 'inbox:put'), [
      { op: 'inbox:put', message: delivered[0].type === 'deliver' ? delivered[0].message : null },
    ]);
    const iPersist = fx.findIndex((e) => e.type === 'persist' && e.ops.some((o) => o.op === 'inbox:put'));
    const iRespond = fx.findIndex((e) => e.type === 'respond');
    assert.ok(iPersist < iRespond, 'persisted before the acknowledgement');
    // the same message again (a retry after a lost ack: new Mesh-Id, new nonce)
    rig.now += 5000;
    const again = rig.handle(rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain)));
    assertOk(again);
    assert.equal(again.filter((e) => e.type === 'deliver').length, 0);
    assert.deepEqual(ops(again, 'inbox:put'), []);
  });

  it('an id delivered before a restart (snapshot deliveredIds) is not delivered again', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }], {}, { deliveredIds: [{ from: b.uuid, id: 'old-1', receivedAt: T0 - 1000 }] });
    const fx = rig.handle(
      rig.fromContact(
        b,
        'message',
        messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { id: 'old-1', text: 'x', sentAt: T0 - 2000 }),
      ),
    );
    assertOk(fx);
    assert.equal(fx.filter((e) => e.type === 'deliver').length, 0);
  });

  it('tampered ciphertext (proof valid over the tampered body) → 401 BAD_SECRET, nothing delivered', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const body = messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { id: 'm-2', text: 'secret', sentAt: T0 });
    const ct = fromB64u(body.ct);
    ct[0] ^= 0x01;
    const fx = rig.handle(rig.fromContact(b, 'message', { ...body, ct: toB64u(ct) }));
    assertError(fx, 401, 'BAD_SECRET');
    assert.equal(fx.filter((e) => e.type === 'deliver').length, 0);
    assert.deepEqual(ops(fx, 'inbox:put'), []);
  });

  it('a message sealed with the receiver’s direction key (reflected) does not open', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    // sealed as if *we* sent it: wrong direction key and AAD
    const body = messageBody(rig.me, b, rig.secrets.get(b.uuid)!, { id: 'm-3', text: 'echo', sentAt: T0 });
    assertError(rig.handle(rig.fromContact(b, 'message', body)), 401, 'BAD_SECRET');
  });

  it('valid ciphertext with malformed plaintext → 400 BAD_REQUEST', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const body = messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { id: 'x'.repeat(65), text: 't', sentAt: 1 });
    assertError(rig.handle(rig.fromContact(b, 'message', body)), 400, 'BAD_REQUEST');
  });
});

// ================================================================ contact_req

describe('onmessage: contact_req', () => {
  function inviteRig(init: CoreInit = {}) {
    const rig = new Rig([{ who: ident('b') }], init);
    const fx = rig.command({ kind: 'invite', addresses: [rig.me.address] });
    const res = fx.find((e) => e.type === 'result');
    assert.ok(res && res.type === 'result' && res.ok);
    const code = (res.value as { code: string }).code;
    return { rig, code, inv: decodeInvite(code) };
  }

  it('with a live invite → pending request + contact:request event + sealed answer with the same phrase; invite spent', () => {
    const { rig, inv } = inviteRig();
    const r = ident('requester');
    const ev = rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, inv.secret));
    const fx = rig.handle(ev);
    const body = assertOk(fx);
    const pending = rig.core.requests.get(r.uuid);
    assert.ok(pending, 'a pending request');
    assert.equal(pending.address, r.address);
    assert.equal(ops(fx, 'request:put').length, 1);
    const ev1 = emits(fx, 'contact:request');
    assert.equal(ev1.length, 1);
    const phrase = (ev1[0] as Extract<AppEvent, { event: 'contact:request' }>).authPhrase;
    assert.equal(phrase.split(' ').length, 6);
    // answer: sealed to the requester, signed (not a contact yet)
    assert.equal(typeof body.signature, 'string');
    assert.equal(body.secret, undefined);
    assert.ok(
      verifyEd25519(
        rig.me.self.signPub,
        responseSigningInput(ev.headers['mesh-id'], String(body.observed), String(body.data)),
        fromB64u(String(body.signature)),
      ),
    );
    const ans = openContactAnswer(r, ev.headers['mesh-id'], String(body.data));
    assert.equal(ans.uuid, rig.me.uuid);
    assert.equal(ans.authPhrase, phrase);
    assert.equal(
      authPhrase(r.self, rig.me.self, fromB64u(ans.secret)),
      phrase,
      'the requester computes the same phrase',
    );
    assert.deepEqual(fromB64u(ans.secret), pending.secret);
    // one-time invite
    assert.deepEqual(ops(fx, 'invite:delete'), [{ op: 'invite:delete', id: inviteId(inv.secret) }]);
    assert.equal(rig.core.invites.size, 0);
    assert.equal(rig.core.contact(r.uuid), undefined, 'not a contact until accepted');
  });

  it('end to end with a second core: R `add`s the code, its send is fed to I, I’s answer back to R → same phrase', () => {
    const { rig, code } = inviteRig();
    const rIdent = ident('R');
    const rCore = new MeshCore(
      {
        self: rIdent.self,
        addresses: [rIdent.address],
        contacts: [],
        referrals: [],
        invites: [],
        requests: [],
        outbox: [],
        deliveredIds: [],
      },
      { random: rand },
      {},
      T0,
    );
    const fx = rCore.handle({ type: 'command', commandId: 7, command: { kind: 'add', code } }, T0);
    const [s] = sends(fx, 'contact_req');
    assert.equal(s.address, rig.me.address, 'tried at the invite’s address hint');
    assert.equal(s.headers['mesh-secret'], undefined);
    const answer = onlyRespond(
      rig.handle({ type: 'request', requestId: 1, remote: '10.1.0.250:40000', headers: s.headers, body: s.body }),
    );
    const back = rCore.handle(
      { type: 'response', requestId: s.requestId, status: answer.status, body: answer.body },
      T0 + 40,
    );
    const res = back.find((e) => e.type === 'result');
    assert.ok(res && res.type === 'result' && res.ok, JSON.stringify(res));
    const phrase = (res.value as { authPhrase: string }).authPhrase;
    assert.equal(phrase, rig.core.requests.get(rIdent.uuid)!.authPhrase);
    assert.equal(rCore.contact(rig.me.uuid)!.status, 'pending');
  });

  it('the same request again (answer lost) is answered with the same secret and phrase, no second event', () => {
    // At-least-once on the wire: the requester retries `add` when the inviter's answer was lost.
    // BUG (handlers/contact-request.ts handleContactReq): the invite is deleted when the first request
    // opens it, so the retry fails with BAD_SECRET before the "pending && same keys → same secret" branch.
    const { rig, inv } = inviteRig();
    const r = ident('requester');
    const first = rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, inv.secret)));
    assertOk(first);
    const phrase = rig.core.requests.get(r.uuid)!.authPhrase;
    rig.now += 30_000;
    const ev = rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, inv.secret));
    const again = rig.handle(ev);
    const body = assertOk(again);
    assert.deepEqual(emits(again, 'contact:request'), []);
    assert.equal(openContactAnswer(r, ev.headers['mesh-id'], String(body.data)).authPhrase, phrase);
  });

  it('a different requester cannot reuse a spent invite → 401 BAD_SECRET', () => {
    const { rig, inv } = inviteRig();
    const r = ident('requester');
    assertOk(rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, inv.secret))));
    const m = ident('mallory');
    assertError(
      rig.handle(rig.fromStranger(m, 'contact_req', inviteReqBody(m, rig.me.uuid, inv.secret))),
      401,
      'BAD_SECRET',
    );
    assert.equal(rig.core.requests.has(m.uuid), false);
  });

  it('expired invite → 401 BAD_SECRET', () => {
    const { rig, inv } = inviteRig();
    const r = ident('requester');
    rig.now = inv.expiresAt;
    assertError(
      rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, inv.secret))),
      401,
      'BAD_SECRET',
    );
    assert.equal(rig.core.requests.size, 0);
  });

  it('unknown invite → 401 BAD_SECRET', () => {
    const { rig } = inviteRig();
    const r = ident('requester');
    assertError(
      rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, rand(16)))),
      401,
      'BAD_SECRET',
    );
  });

  it('right invite id, card sealed under another key → 401 BAD_SECRET', () => {
    const { rig, inv } = inviteRig();
    const r = ident('requester');
    const body = { ...inviteReqBody(r, rig.me.uuid, rand(16)), invite: inviteId(inv.secret) };
    assertError(rig.handle(rig.fromStranger(r, 'contact_req', body)), 401, 'BAD_SECRET');
  });

  it('without an invite to a non-public node → 401 UNKNOWN_SENDER', () => {
    const rig = new Rig([{ who: ident('b') }]);
    const r = ident('requester');
    const fx = rig.handle(rig.fromStranger(r, 'contact_req', { to: rig.me.uuid, hops: 1, card: card(r) }));
    assertError(fx, 401, 'UNKNOWN_SENDER');
    assert.equal(rig.core.requests.size, 0);
  });

  it('acceptAll: a signed request without invite → contact added at once (contact:added, announce)', () => {
    const rig = new Rig([], { acceptAll: true, isPublic: true });
    const r = ident('requester');
    const ev = rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) });
    const fx = rig.handle(ev);
    const body = assertOk(fx);
    const c = rig.core.contact(r.uuid);
    assert.ok(c);
    assert.equal(c.status, 'active');
    assert.equal(c.address, r.address);
    assert.equal(rig.core.requests.size, 0);
    assert.deepEqual(emits(fx, 'contact:added'), [{ event: 'contact:added', uuid: r.uuid, name: r.self.name }]);
    assert.ok(ops(fx, 'contact:put').length >= 1);
    assert.deepEqual(
      sends(fx, 'announce').map((s) => s.address),
      [r.address],
    );
    const ans = openContactAnswer(r, ev.headers['mesh-id'], String(body.data));
    assert.deepEqual(fromB64u(ans.secret), c.secret);
  });

  it('forged signature → 401 BAD_SIGNATURE', () => {
    const rig = new Rig([], { acceptAll: true, isPublic: true });
    const r = ident('requester');
    const mallory = ident('mallory');
    const fx = rig.handle(
      rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) }, { signer: mallory }),
    );
    assertError(fx, 401, 'BAD_SIGNATURE');
    assert.equal(rig.core.contact(r.uuid), undefined);
  });

  it('Mesh-Pub-Key that does not derive Mesh-From → 401 BAD_SIGNATURE', () => {
    const rig = new Rig([], { acceptAll: true, isPublic: true });
    const r = ident('requester');
    const ev = rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) });
    ev.headers['mesh-from'] = ident('other').uuid;
    assertError(rig.handle(ev), 401, 'BAD_SIGNATURE');
  });

  it('a card whose keys do not match its uuid → 401 BAD_SIGNATURE', () => {
    const rig = new Rig([], { acceptAll: true, isPublic: true });
    const r = ident('requester');
    const forged = { ...card(r), boxPub: toB64u(ident('x').self.boxPub) };
    assertError(
      rig.handle(rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: forged })),
      401,
      'BAD_SIGNATURE',
    );
  });

  it('a contact_req for someone else from a contact is relayed by uuid', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    const target = ident('t');
    const body = inviteReqBody(b, target.uuid, rand(16));
    const fx = rig.handle(rig.fromContact(b, 'contact_req', body));
    const fwd = sends(fx, 'contact_req-relay');
    assert.deepEqual(
      fwd.map((s) => [s.address, bodyOf(s).hops]),
      [[c.address, 2]],
    );
  });

  it('a contact_req for someone else from a stranger (non-public node) → 401 UNKNOWN_SENDER', () => {
    const rig = new Rig([{ who: ident('b') }]);
    const r = ident('r');
    assertError(
      rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, ident('t').uuid, rand(16)))),
      401,
      'UNKNOWN_SENDER',
    );
  });
});

// ================================================================ sendmessage

describe('sendmessage', () => {
  function sendRig(extra = 1) {
    const b = ident('b');
    const others = Array.from({ length: extra }, (_, i) => ident(`o${i}`));
    const rig = new Rig([{ who: b }, ...others.map((who) => ({ who }))], {
      outboxRetryMinMs: 2000,
      outboxRetryMaxMs: 60_000,
    });
    const fx = rig.command({ kind: 'send', to: b.uuid, text: 'hi b' });
    return { rig, b, others, fx };
  }

  it('send to a contact → message send effect to its address; queued → sent; ack → delivered', () => {
    const { rig, b, fx } = sendRig();
    const res = fx.find((e) => e.type === 'result');
    assert.ok(res && res.type === 'result' && res.ok);
    const id = (res.value as { id: string }).id;
    const [s] = sends(fx, 'message');
    assert.equal(s.address, b.address);
    assert.equal(s.headers['mesh-type'], 'message');
    assert.deepEqual(s.pin, { signPub: b.self.signPub }, 'TLS pinned to the contact’s key');
    // b can open it
    const link = deriveLinkKey(b.self.boxPriv, rig.me.self.boxPub, rig.secrets.get(b.uuid)!, b.uuid, rig.me.uuid);
    const mb = bodyOf(s) as { nonce: string; ct: string };
    const pt = aeadOpen(
      messageKey(link, rig.me.uuid),
      fromB64u(mb.nonce),
      fromB64u(mb.ct),
      utf8(`mesh-v1-message|${rig.me.uuid}|${b.uuid}`),
    );
    assert.ok(pt);
    assert.deepEqual(decodeJson(pt), { id, text: 'hi b', sentAt: T0 });
    assert.deepEqual(
      emits(fx, 'message:state').map((e) => (e as { state: string }).state),
      ['queued', 'sent'],
    );
    assert.ok(ops(fx, 'outbox:put').length >= 2);
    rig.now += 40;
    const ack = rig.handle(rig.okResponse(s, b));
    assert.deepEqual(
      emits(ack, 'message:state').map((e) => (e as { state: string }).state),
      ['delivered'],
    );
    assert.equal(rig.core.outbox.get(id)!.state, 'delivered');
    assert.equal(rig.core.outbox.get(id)!.deliveredAt, T0 + 40);
  });

  it('send to an unknown contact → result CONTACT_UNKNOWN', () => {
    const rig = new Rig([]);
    const fx = rig.command({ kind: 'send', to: ident('z').uuid, text: 'x' });
    const res = fx.find((e) => e.type === 'result');
    assert.ok(res && res.type === 'result' && !res.ok);
    assert.equal(res.code, 'CONTACT_UNKNOWN');
  });

  it('failure → contact inactive + IP search through the others + outbox retry timer with backoff', () => {
    const { rig, b, others, fx } = sendRig(2);
    const [s] = sends(fx, 'message');
    rig.now += 40;
    const fail = rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    assert.equal(rig.core.contact(b.uuid)!.status, 'inactive');
    assert.deepEqual(emits(fail, 'contact:offline'), [{ event: 'contact:offline', uuid: b.uuid }]);
    assert.deepEqual(
      emits(fail, 'message:state').map((e) => (e as { state: string }).state),
      ['queued'],
    );
    const ip = sends(fail, 'ip');
    assert.deepEqual(ip.map((x) => x.address).sort(), others.map((o) => o.address).sort());
    for (const x of ip) assert.equal(bodyOf(x).to, b.uuid);
    const timer = fail.find((e) => e.type === 'set-timer' && e.timer.kind === 'outbox');
    assert.deepEqual(
      timer,
      { type: 'set-timer', timer: { kind: 'outbox' }, at: rig.now + 2000 },
      'first retry after min delay',
    );
    // the search fails everywhere → exhausted; then the retry timer → attempt 2 → fails → 4 s backoff
    rig.now += 40;
    for (const x of ip) rig.handle({ type: 'send-failed', requestId: x.requestId, reason: 'CONNECT_FAILED' });
    assert.equal(rig.core.searches.size, 0, 'search ended');
    rig.now = T0 + 2080;
    const retry = rig.handle({ type: 'timer', timer: { kind: 'outbox' } });
    const [s2] = sends(retry, 'message');
    assert.ok(s2, 'retried at the associated address');
    assert.equal(s2.address, b.address);
    rig.now += 40;
    const fail2 = rig.handle({ type: 'send-failed', requestId: s2.requestId, reason: 'TIMEOUT' });
    const timer2 = fail2.find((e) => e.type === 'set-timer' && e.timer.kind === 'outbox');
    assert.deepEqual(timer2, { type: 'set-timer', timer: { kind: 'outbox' }, at: rig.now + 4000 }, 'backoff doubles');
    const m = [...rig.core.outbox.values()][0];
    assert.equal(m.attempts, 2);
    assert.equal(m.state, 'queued');
  });

  it('backoff is capped at outboxRetryMaxMs', () => {
    const { rig, b } = sendRig(0);
    const m = [...rig.core.outbox.values()][0];
    m.attempts = 30; // as after many failures
    m.state = 'queued';
    indexOutbox(rig.core.state, m); // the core keeps a per-contact queue index next to the record
    rig.core.contact(b.uuid)!.status = 'active';
    const retry = rig.handle({ type: 'timer', timer: { kind: 'outbox' } });
    const [s] = sends(retry, 'message');
    const fail = rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    assert.deepEqual(
      fail.find((e) => e.type === 'set-timer' && e.timer.kind === 'outbox'),
      { type: 'set-timer', timer: { kind: 'outbox' }, at: rig.now + 60_000 },
    );
  });

  it('auth chart: a 200 answer with a wrong `secret` proof counts as failure (BAD_SECRET, deactivate, search)', () => {
    const { rig, b, others, fx } = sendRig(1);
    const [s] = sends(fx, 'message');
    rig.now += 40;
    const r = rig.handle(rig.okResponse(s, b, { wrongProof: true }));
    assert.ok(drops(r).includes('BAD_SECRET'));
    const m = [...rig.core.outbox.values()][0];
    assert.equal(m.state, 'queued', 'not delivered');
    assert.ok(!emits(r, 'message:state').some((e) => (e as { state: string }).state === 'delivered'));
    assert.equal(rig.core.contact(b.uuid)!.status, 'inactive');
    assert.deepEqual(
      sends(r, 'ip').map((x) => x.address),
      [others[0].address],
    );
  });

  it('auth chart: a 200 answer without any `secret` counts as failure', () => {
    const { rig, b, fx } = sendRig(1);
    const [s] = sends(fx, 'message');
    const r = rig.handle({
      type: 'response',
      requestId: s.requestId,
      status: 200,
      body: encodeJson({ observed: '10.0.0.1:40000' }),
    });
    assert.equal([...rig.core.outbox.values()][0].state, 'queued');
    assert.ok(drops(r).includes('BAD_SECRET'));
    assert.equal(rig.core.contact(b.uuid)!.status, 'inactive');
  });

  it('a response to an unknown request id is dropped (UNKNOWN_REQUEST)', () => {
    const rig = new Rig([]);
    const r = rig.handle({ type: 'response', requestId: 999, status: 200, body: encodeJson({ observed: 'x:1' }) });
    assert.deepEqual(drops(r), ['UNKNOWN_REQUEST']);
  });

  it('start: announces to every contact with an address; a failing one is deactivated, searched for only when messages wait', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }, { who: ident('n'), address: null }]);
    const fx = rig.command({ kind: 'start' });
    const ann = sends(fx, 'announce');
    assert.deepEqual(ann.map((s) => s.address).sort(), [b.address, c.address].sort());
    const toB = ann.find((s) => s.address === b.address)!;
    const fail = rig.handle({ type: 'send-failed', requestId: toB.requestId, reason: 'CONNECT_FAILED' });
    assert.equal(rig.core.contact(b.uuid)!.status, 'inactive');
    assert.deepEqual(sends(fail, 'ip'), [], 'nothing waits for b: no search');
    // A message for b: the associated address is tried first, then b is searched for through c.
    const queued = rig.command({ kind: 'send', to: b.uuid, text: 'are you there?' });
    const [direct] = sends(queued, 'message');
    assert.equal(direct.address, b.address);
    const fail2 = rig.handle({ type: 'send-failed', requestId: direct.requestId, reason: 'CONNECT_FAILED' });
    assert.deepEqual(
      sends(fail2, 'ip').map((s) => [s.address, bodyOf(s).to]),
      [[c.address, b.uuid]],
    );
  });

  it('a search answer (relayed, sealed by the target) relocates the contact and flushes the outbox', () => {
    const { rig, b, others, fx } = sendRig(1);
    const [s] = sends(fx, 'message');
    const fail = rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    const [ip] = sends(fail, 'ip');
    const searchId = ip.headers['mesh-id'];
    // b opens the sealed part as the target would
    const ipb = bodyOf(ip) as { encrypted: string };
    const opened = openSealed(b.self, fromB64u(ipb.encrypted), ipAad(b.uuid));
    assert.ok(opened);
    const link = deriveLinkKey(b.self.boxPriv, rig.me.self.boxPub, rig.secrets.get(b.uuid)!, b.uuid, rig.me.uuid);
    const newB = '10.200.0.2:7575';
    const answer = { ip: newB, proof: computeProof(link, ipAnswerProofInput(searchId, newB)) };
    const data = toB64u(sealTo(b.self, rig.me.self.boxPub, utf8(JSON.stringify(answer)), ipAnswerAad(searchId), rand));
    rig.now += 100;
    const r = rig.handle(rig.okResponse(ip, others[0], { data }));
    const rel = emits(r, 'relocated');
    assert.equal(rel.length, 1);
    assert.deepEqual(rel[0], { event: 'relocated', uuid: b.uuid, address: newB, via: others[0].uuid, searchId });
    assert.equal(rig.core.contact(b.uuid)!.address, newB);
    assert.equal(rig.core.contact(b.uuid)!.status, 'active');
    assert.deepEqual(
      sends(r, 'message').map((x) => x.address),
      [newB],
      'the queued message goes to the new address',
    );
  });

  it('a search answer sealed by someone else is refused (BAD_SECRET), the contact stays where it was', () => {
    const { rig, b, others, fx } = sendRig(1);
    const [s] = sends(fx, 'message');
    const fail = rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    const [ip] = sends(fail, 'ip');
    const searchId = ip.headers['mesh-id'];
    const evil = ident('evil');
    const answer = { ip: '6.6.6.6:7575', proof: toB64u(rand(32)) };
    const data = toB64u(
      sealTo(evil.self, rig.me.self.boxPub, utf8(JSON.stringify(answer)), ipAnswerAad(searchId), rand),
    );
    const r = rig.handle(rig.okResponse(ip, others[0], { data }));
    assert.ok(drops(r).includes('BAD_SECRET'));
    assert.equal(rig.core.contact(b.uuid)!.address, b.address);
    assert.deepEqual(emits(r, 'relocated'), []);
  });
});

describe('state is plain data', () => {
  /**
   * A core in the middle of things: a message failed (search in flight, outbox retry timer), a relay
   * waits for downstream, an invite is out, referrals and seen ids are held.
   */
  function busyRig() {
    const b = ident('b');
    const c = ident('c');
    const d = ident('d');
    const e = ident('e');
    const rig = new Rig([{ who: b }, { who: c }, { who: d }, { who: e }], { searchRadius: 2 });
    rig.command({ kind: 'invite' });
    rig.handle(rig.fromContact(c, 'referral', { referent: ident('y').uuid, hops: 1 }));
    const [msg] = sends(rig.command({ kind: 'send', to: b.uuid, text: 'hi' }), 'message');
    rig.now += 40;
    const failed = rig.handle({ type: 'send-failed', requestId: msg.requestId, reason: 'CONNECT_FAILED' });
    const id = toB64u(rand(16));
    const relayed = rig.handle(
      rig.fromContact(c, 'IP', ipBody(c, ident('z'), rand(32), id, '1.2.3.4:7575', 1), { id }),
    );
    return { rig, searchSends: sends(failed, 'ip'), relaySends: sends(relayed, 'ip-relay') };
  }

  it('holds searches, relays and outstanding requests as records, and survives structuredClone', () => {
    const { rig, searchSends, relaySends } = busyRig();
    const state = rig.core.state;
    assert.ok(searchSends.length > 0 && relaySends.length > 0, 'work is in flight');
    assert.equal(state.searches.size, 1);
    assert.equal(state.relays.size, 1);
    assert.deepEqual([...new Set([...state.outstanding.values()].map((o) => o.then.kind))].sort(), ['relay', 'search']);
    // structuredClone throws on a function; deepStrictEqual also fails on a class instance (its
    // prototype and private fields do not survive the clone), so this passes for plain data only.
    assert.deepStrictEqual(structuredClone(state), state);
  });

  it('a core rebuilt from a clone of the state carries on exactly like the original', () => {
    const { rig, searchSends, relaySends } = busyRig();
    const snapshot: CoreSnapshot = {
      self: rig.me.self,
      addresses: [],
      contacts: [],
      referrals: [],
      invites: [],
      requests: [],
      outbox: [],
      deliveredIds: [],
    };
    const init: CoreInit = { searchRadius: 2 };
    const random = () => {
      const r = seededRandom(77);
      return (n: number) => r.bytes(n);
    };
    const original = new MeshCore(snapshot, { random: random() }, init, rig.now, rig.core.state);
    const rebuilt = new MeshCore(snapshot, { random: random() }, init, rig.now, structuredClone(rig.core.state));
    const events: [number, CoreEvent][] = [
      ...searchSends.map((s): [number, CoreEvent] => [
        rig.now + 50,
        { type: 'send-failed', requestId: s.requestId, reason: 'TIMEOUT' },
      ]),
      [rig.now + 8000, { type: 'timer', timer: { kind: 'relay', id: 1 } }],
      [rig.now + 10_000, { type: 'timer', timer: { kind: 'outbox' } }],
      [rig.now + 10_100, { type: 'send-failed', requestId: relaySends[0].requestId, reason: 'CONNECT_FAILED' }],
    ];
    let effects = 0;
    for (const [now, event] of events) {
      const a = original.handle(event, now);
      assert.deepStrictEqual(rebuilt.handle(event, now), a, `same effects for ${event.type}`);
      effects += a.length;
    }
    assert.ok(effects > 5, 'the events did something');
    assert.deepStrictEqual(rebuilt.state, original.state);
  });
});

// ================================================================ hardening (issue 12): budgets and claims

describe('hardening: budgets and remote claims (issue 12)', () => {
  it('#1 a relay floods to at most RELAY_FANOUT contacts, most recently seen first; the cut is counted', () => {
    const peers = Array.from({ length: 20 }, (_, i) => ({ who: ident(`p${i}`), lastSeen: T0 - i * MIN }));
    const rig = new Rig(peers);
    const from = peers[19].who;
    const fx = rig.handle(
      rig.fromContact(from, 'IP', { to: ident('far').uuid, hops: 1, encrypted: toB64u(rand(100)) }),
    );
    const fwd = sends(fx, 'ip-relay');
    assert.equal(fwd.length, RELAY_FANOUT);
    assert.deepEqual(
      fwd.map((s) => s.address),
      peers.slice(0, RELAY_FANOUT).map((p) => p.who.address),
      'the most recently seen contacts',
    );
    assert.ok(drops(fx).includes('LIMIT_FANOUT'));
  });

  it('#1 relays in flight are bounded: beyond RELAY_MAX_IN_FLIGHT → 429 OVER_LIMIT, nothing sent', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }]);
    for (let i = 0; i < RELAY_MAX_IN_FLIGHT; i++)
      assertNoRespond(rig.handle(rig.fromContact(a, 'IP', { to: ident('x').uuid, hops: 1, encrypted: 'AAAA' })));
    const fx = rig.handle(rig.fromContact(a, 'IP', { to: ident('y').uuid, hops: 1, encrypted: 'AAAA' }));
    assertError(fx, 429, 'OVER_LIMIT');
    assert.deepEqual(sends(fx), []);
    assert.deepEqual(drops(fx), ['LIMIT_RELAYS']);
  });

  it('#3 an address-change referral per contact at most once per MOVED_REFERRAL_INTERVAL_MS', () => {
    const a = ident('a');
    const b = ident('b');
    const c = ident('c');
    // Referrals are off by default since contact digests (issue 11): a node that turns them on keeps the damping.
    const rig = new Rig([{ who: a }, { who: b }, { who: c }], { referralRadius: 1 });
    const flip = (port: number) => rig.handle(rig.fromContact(a, 'referral', { referent: a.uuid, hops: 0 }, { port }));
    assert.equal(sends(flip(7600), 'referral').length, 2, 'the first change is told to b and c');
    const again = flip(7575);
    assert.equal(sends(again, 'referral').length, 0);
    assert.ok(drops(again).includes('LIMIT_MOVED'));
    rig.now += MOVED_REFERRAL_INTERVAL_MS;
    assert.equal(sends(flip(7600), 'referral').length, 2, 'told again after the interval');
  });

  it('#5 a sealed IP part without a timestamp is answered but does not move the searcher; a stale one → 409 REPLAYED', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }]);
    const secret = rig.secrets.get(a.uuid)!;
    const id1 = toB64u(rand(16));
    const v1 = rig.handle(
      rig.fromContact(b, 'IP', ipBody(a, rig.me, secret, id1, '172.16.0.9:7575', 2, null), { id: id1 }),
    );
    assertOk(v1);
    assert.equal(rig.core.contact(a.uuid)!.address, a.address, 'no timestamp: not moved');
    const id2 = toB64u(rand(16));
    const stale = ipBody(a, rig.me, secret, id2, '172.16.0.9:7575', 2, T0 - REPLAY_WINDOW_MS - 1);
    assertError(rig.handle(rig.fromContact(b, 'IP', stale, { id: id2 })), 409, 'REPLAYED');
    assert.equal(rig.core.contact(a.uuid)!.address, a.address);
  });

  it('#16 loopback claims are refused unless we are on loopback ourselves', () => {
    assert.equal(isPlausibleAddress('127.0.0.1:22', '10.1.0.1:7575'), false);
    assert.equal(isPlausibleAddress('[::1]:7575', '10.1.0.1:7575'), false);
    assert.equal(isPlausibleAddress('localhost:7575', null), false);
    assert.equal(isPlausibleAddress('127.0.0.5:7575', '127.0.0.2:7575'), true);
    for (const bad of ['0.0.0.0:7575', '224.0.0.1:7575', '255.255.255.255:7575', '[::]:7575', '[ff02::1]:7575'])
      assert.equal(isPlausibleAddress(bad, '127.0.0.2:7575'), false, bad);
    assert.equal(isPlausibleAddress('198.51.100.7:7575', '10.1.0.1:7575'), true);
    assert.equal(isPlausibleAddress('peer.example:7575', '10.1.0.1:7575'), true);
    // In the core: an IP search answer claiming loopback does not relocate the contact.
    const a = ident('a');
    const rig = new Rig([{ who: a }]);
    const id = toB64u(rand(16));
    const fx = rig.handle(
      rig.fromContact(a, 'IP', ipBody(a, rig.me, rig.secrets.get(a.uuid)!, id, '127.0.0.1:22', 2), { id }),
    );
    assertOk(fx);
    assert.equal(rig.core.contact(a.uuid)!.address, a.address);
    assert.ok(drops(fx).includes('BAD_ADDRESS'));
  });

  it('#6 pending requests are bounded: beyond MAX_PENDING_REQUESTS → 429 OVER_LIMIT', () => {
    const rig = new Rig([], { isPublic: true });
    for (let i = 0; i < MAX_PENDING_REQUESTS; i++) {
      const r = ident(`r${i}`);
      assertOk(rig.handle(rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) })));
    }
    const r = ident('one-too-many');
    const fx = rig.handle(rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) }));
    assertError(fx, 429, 'OVER_LIMIT');
    assert.equal(rig.core.requests.size, MAX_PENDING_REQUESTS);
    assert.deepEqual(drops(fx), ['LIMIT_REQUESTS']);
  });

  it('#6 --accept-all adds at most MAX_ACCEPT_ALL_CONTACTS; a stranger is stored where it spoke from', () => {
    const many = Array.from({ length: MAX_ACCEPT_ALL_CONTACTS }, (_, i) => ({
      who: { ...ident('x'), address: `10.2.${i >> 8}.${i & 255}:7575` },
    }));
    const rig = new Rig(many, { acceptAll: true, isPublic: true });
    const r = ident('late');
    assertError(
      rig.handle(rig.fromStranger(r, 'contact_req', { to: null, hops: 1, card: card(r) })),
      429,
      'OVER_LIMIT',
    );
    const small = new Rig([], { acceptAll: true, isPublic: true });
    const s = ident('s');
    const fx = small.handle(
      small.fromStranger(s, 'contact_req', { to: null, hops: 1, card: card(s, '198.51.100.7:22') }),
    );
    assertOk(fx);
    assert.equal(small.core.contact(s.uuid)!.address, s.address, 'the socket it spoke from, not the card');
  });

  it('#9 one contact holds at most MAX_CONTACT_REFERRALS_PER_VIA referrals about our own contacts (oldest evicted)', () => {
    const m = ident('mallory');
    const others = Array.from({ length: MAX_CONTACT_REFERRALS_PER_VIA + 4 }, (_, i) => ({
      who: ident(`o${i}`),
      status: 'inactive' as ContactStatus,
    }));
    const rig = new Rig([{ who: m }, ...others]);
    for (const o of others) {
      rig.now += 1000;
      assertOk(rig.handle(rig.fromContact(m, 'referral', { referent: o.who.uuid, hops: 1 })));
    }
    const held = others.filter((o) => rig.core.referrals(o.who.uuid).length > 0);
    assert.equal(held.length, MAX_CONTACT_REFERRALS_PER_VIA);
    assert.deepEqual(
      held.map((o) => o.who.uuid),
      others.slice(4).map((o) => o.who.uuid),
      'the newest claims are kept',
    );
  });

  it('#11 strangers flooding distinct ids cannot evict the replay ids of our contacts', () => {
    const cache = createSeenCache(100, 10 * MIN, 10);
    seenAdd(cache, 'contact|1', T0);
    for (let i = 0; i < 1000; i++) seenAdd(cache, `stranger|${i}`, T0, true);
    assert.ok(seenHas(cache, 'contact|1', T0), 'the contact id survives');
    assert.equal(cache.strangerEntries.size, 10);
  });

  it('#12 a rejected requester cannot reuse the spent invite', () => {
    const rig = new Rig([]);
    const inv = rig.command({ kind: 'invite', ttlMs: 3_600_000, addresses: [] });
    const code = (inv.find((e) => e.type === 'result') as { value: { code: string } }).value.code;
    const secret = decodeInvite(code).secret;
    const r = ident('r');
    assertOk(rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, secret))));
    rig.command({ kind: 'reject', uuid: r.uuid });
    const fx = rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, secret)));
    assertError(fx, 401, 'BAD_SECRET');
    assert.equal(rig.core.requests.size, 0);
  });

  it('#14 `observed` from an answer without a link proof is not shown (self:observed)', () => {
    const rig = new Rig([]);
    const x = ident('x');
    const fx = rig.command({ kind: 'bootstrap', address: x.address, domain: null });
    const s = sends(fx)[0];
    const body = { observed: '203.0.113.9:4000', signature: toB64u(rand(64)) };
    const r = rig.handle({ type: 'response', requestId: s.requestId, status: 200, body: encodeJson(body) });
    assert.deepEqual(emits(r, 'self:observed'), []);
  });

  it('inbox budget: beyond INBOX_MAX_PER_CONTACT per window → 429 OVER_LIMIT (the sender retries), then accepted again', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const secret = rig.secrets.get(b.uuid)!;
    const msg = (i: number) => messageBody(b, rig.me, secret, { id: `m${i}`, text: 'x', sentAt: T0 });
    for (let i = 0; i < INBOX_MAX_PER_CONTACT; i++) assertOk(rig.handle(rig.fromContact(b, 'message', msg(i))));
    const over = rig.handle(rig.fromContact(b, 'message', msg(-1)));
    assertError(over, 429, 'OVER_LIMIT');
    assert.deepEqual(
      over.filter((e) => e.type === 'deliver'),
      [],
    );
    // A repeat of a delivered id is still acknowledged (the sender must stop retrying it).
    assertOk(rig.handle(rig.fromContact(b, 'message', msg(0))));
    rig.now += INBOX_WINDOW_MS;
    const later = rig.handle(rig.fromContact(b, 'message', msg(-1)));
    assertOk(later);
    assert.equal(later.filter((e) => e.type === 'deliver').length, 1);
  });

  it('#19 `mesh add` asks at most ADD_MAX_ASK contacts (plus the invite’s address hints)', () => {
    const peers = Array.from({ length: ADD_MAX_ASK + 10 }, (_, i) => ({ who: ident(`p${i}`) }));
    const rig = new Rig(peers, { searchFanout: 1000 });
    const inviter = ident('inviter');
    const code = encodeInvite({
      uuid: inviter.uuid,
      secret: rand(16),
      expiresAt: T0 + 3_600_000,
      addresses: [],
      domain: null,
    });
    const fx = rig.command({ kind: 'add', code });
    assert.equal(sends(fx, 'contact_req').length, ADD_MAX_ASK);
    assert.ok(drops(fx).includes('LIMIT_FANOUT'));
  });
});

function assertNoRespond(fx: Effect[]): void {
  assert.equal(onlyRespondCount(fx), 0);
}

// ---------------------------------------------------------------- channel authentication (PROTOCOL.md §13.8)

describe('channel-authenticated requests (attack tests)', () => {
  /** A request from `from` without Mesh-Secret, as it arrives over a channel; `channel` = the peer the HELLO proved. */
  function overChannel(rig: Rig, from: Ident, type: MessageType, body: unknown, channel: string | null) {
    const e = rig.fromContact(from, type, body);
    delete e.headers['mesh-secret'];
    return { ...e, channel };
  }
  const plain = (text: string) => ({ id: toB64u(rand(16)), text, sentAt: T0 });

  it("a contact's request on its own channel is accepted without Mesh-Secret, and answered without a proof", () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.handle(
      overChannel(rig, b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain('hi')), b.uuid),
    );
    const ok = assertOk(fx);
    assert.equal(ok.secret, undefined, 'no per-answer proof on the channel');
    assert.equal(ok.signature, undefined);
    assert.equal(fx.filter((e) => e.type === 'deliver').length, 1);
  });

  it('the same request without Mesh-Secret by POST (no channel) is refused', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.handle(
      overChannel(rig, b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain('hi')), null),
    );
    assertError(fx, 400, 'BAD_REQUEST');
    assert.equal(fx.filter((e) => e.type === 'deliver').length, 0);
  });

  it('a contact cannot speak as another contact over its channel (even with that uuid in Mesh-From)', () => {
    const b = ident('b');
    const c = ident('c');
    const rig = new Rig([{ who: b }, { who: c }]);
    // B's channel, a request claiming to be from C (C's message body is even validly sealed).
    const fx = rig.handle(
      overChannel(rig, c, 'message', messageBody(c, rig.me, rig.secrets.get(c.uuid)!, plain('forged')), b.uuid),
    );
    assertError(fx, 401, 'BAD_SECRET');
    assert.equal(fx.filter((e) => e.type === 'deliver').length, 0);
    // ...and not with C's valid Mesh-Secret either: the channel speaks for B only.
    const withProof = {
      ...rig.fromContact(c, 'message', messageBody(c, rig.me, rig.secrets.get(c.uuid)!, plain('x'))),
    };
    assertError(rig.handle({ ...withProof, channel: b.uuid }), 401, 'BAD_SECRET');
  });

  it("a stranger's channel gets no contact privileges", () => {
    const b = ident('b');
    const s = ident('s');
    const rig = new Rig([{ who: b }]);
    // As itself: not a contact, no secret or signature → UNKNOWN_SENDER.
    const own = rig.handle(overChannel(rig, s, 'referral', { referent: b.uuid, hops: 1 }, s.uuid));
    assertError(own, 401, 'UNKNOWN_SENDER');
    // As the contact B on the stranger's own channel → refused.
    const asB = rig.handle(
      overChannel(rig, b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain('x')), s.uuid),
    );
    assertError(asB, 401, 'BAD_SECRET');
    assert.equal(asB.filter((e) => e.type === 'deliver').length, 0);
  });

  it('an answer without proof counts only when it came back on the contact’s own channel', () => {
    const b = ident('b');
    const c = ident('c');
    for (const [channel, delivered] of [
      [null, false],
      ['c', false],
      ['b', true],
    ] as const) {
      const rig = new Rig([{ who: b }, { who: c }], { outboxRetryMinMs: 2000 });
      const fx = rig.command({ kind: 'send', to: b.uuid, text: 'hi' });
      const [s] = sends(fx, 'message');
      assert.ok(s.headers['mesh-secret'], 'the request keeps Mesh-Secret so it stays valid by POST');
      const body = encodeJson({ observed: '10.9.9.9:40000' });
      const uuid = channel === null ? null : channel === 'b' ? b.uuid : c.uuid;
      const ack = rig.handle({ type: 'response', requestId: s.requestId, status: 200, body, channel: uuid });
      const states = emits(ack, 'message:state').map((e) => (e as { state: string }).state);
      assert.equal(states.includes('delivered'), delivered, `channel ${channel}: ${states.join(',')}`);
    }
  });
});

describe('flush command (a channel to the contact opened)', () => {
  it('sends the contact’s queued messages at once instead of at their backoff time', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }], { outboxRetryMinMs: 60_000 });
    const [s] = sends(rig.command({ kind: 'send', to: b.uuid, text: 'hi' }), 'message');
    rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    rig.now += 10;
    const none = rig.command({ kind: 'flush', uuid: 'ffffffff-ffff-ffff-ffff-ffffffffffff' });
    assert.equal(sends(none, 'message').length, 0, 'unknown uuid: nothing');
    const fx = rig.command({ kind: 'flush', uuid: b.uuid });
    assert.equal(sends(fx, 'message').length, 1, 'the queued message goes now, not in a minute');
  });
});

describe('message de-duplication is per sender (issue 12 #18)', () => {
  const deliveredTexts = (fx: Effect[]) => fx.flatMap((e) => (e.type === 'deliver' ? [e.message.text] : []));

  it('contact B sending first with A’s message id does not hide A’s message', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig([{ who: a }, { who: b }]);
    const id = 'shared-id';
    const fromB = rig.handle(
      rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { id, text: 'B', sentAt: T0 })),
    );
    assertOk(fromB);
    rig.now += 1000;
    const fromA = rig.handle(
      rig.fromContact(a, 'message', messageBody(a, rig.me, rig.secrets.get(a.uuid)!, { id, text: 'A', sentAt: T0 })),
    );
    assertOk(fromA);
    assert.deepEqual(deliveredTexts(fromA), ['A'], 'A’s message is delivered');
    assert.deepEqual(
      ops(fromA, 'inbox:put').map((o) => (o as { message: { from: string } }).message.from),
      [a.uuid],
    );
    // …and each sender's own retry is still recognised.
    rig.now += 1000;
    const againA = rig.handle(
      rig.fromContact(a, 'message', messageBody(a, rig.me, rig.secrets.get(a.uuid)!, { id, text: 'A', sentAt: T0 })),
    );
    assertOk(againA);
    assert.deepEqual(deliveredTexts(againA), []);
  });

  it('a snapshot’s delivered (from, id) blocks only that sender’s id', () => {
    const a = ident('a');
    const b = ident('b');
    const rig = new Rig(
      [{ who: a }, { who: b }],
      {},
      { deliveredIds: [{ from: b.uuid, id: 'x', receivedAt: T0 - 5 }] },
    );
    const plain = { id: 'x', text: 'from a', sentAt: T0 };
    const fx = rig.handle(rig.fromContact(a, 'message', messageBody(a, rig.me, rig.secrets.get(a.uuid)!, plain)));
    assert.deepEqual(deliveredTexts(fx), ['from a']);
    const fromB = rig.handle(
      rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { ...plain, text: 'b again' })),
    );
    assertOk(fromB);
    assert.deepEqual(deliveredTexts(fromB), []);
  });
});

describe('retention of delivered ids and outbox history (issue 12 item 6)', () => {
  const sweepAt = (rig: Rig) => rig.handle({ type: 'timer', timer: { kind: 'sweep' } });
  const deliveredTexts = (fx: Effect[]) => fx.flatMap((e) => (e.type === 'deliver' ? [e.message.text] : []));

  it('the constants: the memory outlives every legitimate retry, and a shorter one is refused', () => {
    const cfg = resolveConfig();
    // A sender retries until OUTBOX_EXPIRY_MS after sentAt; its clock may be a replay window off ours.
    assert.ok(messageMaxAge(cfg) >= OUTBOX_EXPIRY_MS + REPLAY_WINDOW_MS);
    assert.ok(DELIVERED_RETENTION_MS >= messageMaxAge(cfg) + 2 * REPLAY_WINDOW_MS);
    assert.ok(DELIVERED_RETENTION_MS > 2 * REPLAY_WINDOW_MS, 'the dedup window is longer than the replay window');
    assert.throws(
      () => resolveConfig({ deliveredRetentionMs: 2 * REPLAY_WINDOW_MS }),
      (e: unknown) => (e as { code?: string }).code === 'INVALID_ARGUMENT',
    );
  });

  it('after the sweep forgets a message, its retry is refused REPLAYED, never delivered twice — at any delay', () => {
    const b = ident('b');
    const day = 24 * 60 * MIN;
    for (const delay of [MIN, day, 29 * day, 30 * day, 31 * day - 1, 31 * day + 1, 40 * day, 400 * day]) {
      const rig = new Rig([{ who: b }]);
      const plain = { id: 'r-1', text: 'once', sentAt: T0 };
      const send = () =>
        rig.handle(rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain)));
      assert.deepEqual(deliveredTexts(send()), ['once']);
      // Sweeps every 10 min in a real node: one at the retry's time is the latest state it can be in.
      rig.now += delay;
      const swept = sweepAt(rig);
      const forgotten = !rig.core.state.delivered.has(JSON.stringify([b.uuid, 'r-1']));
      assert.equal(forgotten, delay > DELIVERED_RETENTION_MS, `delay ${delay}: forgotten only after the retention`);
      if (forgotten)
        assert.deepEqual(ops(swept, 'delivered:prune'), [
          { op: 'delivered:prune', before: rig.now - DELIVERED_RETENTION_MS },
        ]);
      const retry = send();
      assert.deepEqual(deliveredTexts(retry), [], `delay ${delay}: not delivered twice`);
      if (forgotten) assertError(retry, 409, 'REPLAYED');
      else assertOk(retry);
    }
  });

  it('the oldest message a sender may still retry is delivered the first time', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    // Written OUTBOX_EXPIRY_MS ago by a clock a replay window behind ours: the sender still retries it.
    const plain = { id: 'late', text: 'late but legit', sentAt: T0 - OUTBOX_EXPIRY_MS - REPLAY_WINDOW_MS };
    const fx = rig.handle(rig.fromContact(b, 'message', messageBody(b, rig.me, rig.secrets.get(b.uuid)!, plain)));
    assert.deepEqual(deliveredTexts(fx), ['late but legit']);
  });

  it('delivered and failed outbox records are dropped after OUTBOX_HISTORY_MS; queued ones stay', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.command({ kind: 'send', to: b.uuid, text: 'kept as history' });
    const [s] = sends(fx, 'message');
    const id = (fx.find((e) => e.type === 'result') as { value: { id: string } }).value.id;
    rig.handle(rig.okResponse(s, b));
    assert.equal(rig.core.outbox.get(id)?.state, 'delivered');
    rig.now += 5;
    const queued = rig.command({ kind: 'send', to: b.uuid, text: 'waits' });
    const queuedId = (queued.find((e) => e.type === 'result') as { value: { id: string } }).value.id;
    rig.now += OUTBOX_HISTORY_MS - 10;
    assert.deepEqual(ops(sweepAt(rig), 'outbox:delete'), [], 'not yet');
    rig.now += 20;
    const swept = sweepAt(rig);
    assert.deepEqual(ops(swept, 'outbox:delete'), [{ op: 'outbox:delete', id }]);
    assert.equal(rig.core.outbox.has(id), false);
    assert.ok(rig.core.outbox.has(queuedId), 'a message still on its way is not history');
  });
});

describe('remove command (mesh contacts remove, issue 12 item 6)', () => {
  it('drops the contact, its referrals, queued messages and search; it is then answered as a stranger', () => {
    const b = ident('b');
    const c = ident('c');
    const x = ident('x');
    const referral = (referent: string, via: string) => ({
      referent,
      via,
      hops: 1,
      updatedAt: T0,
      expiresAt: T0 + 6 * 60 * MIN,
    });
    const rig = new Rig(
      [{ who: b }, { who: c }],
      {},
      { referrals: [referral(x.uuid, b.uuid), referral(b.uuid, c.uuid), referral(x.uuid, c.uuid)] },
    );
    // A message to b whose send fails: b goes offline and a search for it starts.
    const [s] = sends(rig.command({ kind: 'send', to: b.uuid, text: 'pending' }), 'message');
    const failed = rig.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' });
    assert.ok(sends(failed, 'ip').length > 0, 'a search for b runs');
    assert.ok(rig.core.searches.has(b.uuid));
    rig.now += 10;
    const fx = rig.command({ kind: 'remove', uuid: b.uuid });
    assert.deepEqual(
      fx.find((e) => e.type === 'result'),
      { type: 'result', commandId: 2, ok: true, value: { uuid: b.uuid } },
    );
    assert.deepEqual(ops(fx, 'contact:delete'), [{ op: 'contact:delete', uuid: b.uuid }]);
    assert.deepEqual(
      ops(fx, 'referral:delete')
        .map((o) => JSON.stringify(o))
        .sort(),
      [
        { op: 'referral:delete', referent: b.uuid, via: c.uuid },
        { op: 'referral:delete', referent: x.uuid, via: b.uuid },
      ]
        .map((o) => JSON.stringify(o))
        .sort(),
    );
    assert.equal(ops(fx, 'outbox:delete').length, 1);
    assert.equal(sends(fx).filter((e) => e.address === b.address).length, 0, 'b is not told');
    assert.ok(
      fx.some((e) => e.type === 'clear-timer' && e.timer.kind === 'search'),
      'its search timer is cleared',
    );
    const st = rig.core.state;
    assert.equal(st.contacts.has(b.uuid), false);
    assert.equal(st.searches.has(b.uuid), false);
    assert.equal(st.queued.has(b.uuid), false);
    assert.equal([...st.outbox.values()].filter((m) => m.to === b.uuid).length, 0);
    assert.deepEqual(
      rig.core.referrals(x.uuid).map((r) => r.via),
      [c.uuid],
      'the referral through c stays',
    );
    assert.equal([...st.outstanding.values()].filter((o) => o.contact === b.uuid).length, 0);
    // b, with its old secret, now gets exactly what a stranger with a junk proof gets (finding 8).
    const body = { referent: b.uuid, hops: 0 };
    const fromB = onlyRespond(rig.handle(rig.fromContact(b, 'referral', body)));
    const stranger = ident('stranger');
    const fromStranger = onlyRespond(rig.handle(rig.fromContact(stranger, 'referral', body, { secret: rand(32) })));
    assert.equal(fromB.status, 401);
    assert.deepEqual(bodyOf(fromB), bodyOf(fromStranger));
    const msg = rig.handle(
      rig.fromContact(
        b,
        'message',
        messageBody(b, rig.me, rig.secrets.get(b.uuid)!, { id: 'm', text: 'hi', sentAt: rig.now }),
      ),
    );
    assertError(msg, 401, 'UNKNOWN_SENDER');
    assert.equal(msg.filter((e) => e.type === 'deliver').length, 0);
  });

  it('a removed contact cannot come back with the invite it spent', () => {
    const rig = new Rig([]);
    const inv = rig.command({ kind: 'invite', ttlMs: 3_600_000, addresses: [] });
    const code = (inv.find((e) => e.type === 'result') as { value: { code: string } }).value.code;
    const secret = decodeInvite(code).secret;
    const r = ident('r');
    assertOk(rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, secret))));
    rig.command({ kind: 'accept', uuid: r.uuid });
    assert.ok(rig.core.contact(r.uuid));
    rig.command({ kind: 'remove', uuid: r.uuid });
    const fx = rig.handle(rig.fromStranger(r, 'contact_req', inviteReqBody(r, rig.me.uuid, secret)));
    assertError(fx, 401, 'BAD_SECRET');
    assert.equal(rig.core.requests.size, 0);
    assert.equal(rig.core.contact(r.uuid), undefined);
  });

  it('an unknown uuid fails CONTACT_UNKNOWN and changes nothing', () => {
    const b = ident('b');
    const rig = new Rig([{ who: b }]);
    const fx = rig.command({ kind: 'remove', uuid: ident('nobody').uuid });
    const r = fx.find((e) => e.type === 'result');
    assert.ok(r && !r.ok && r.code === 'CONTACT_UNKNOWN');
    assert.deepEqual(ops(fx), []);
    assert.ok(rig.core.contact(b.uuid));
  });
});
