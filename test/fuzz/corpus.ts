/**
 * The fuzz corpus: valid requests to a node A, made by real cores (B, C: A's contacts; S and D:
 * strangers). Every seed is what a real MeshCore put in a `send` effect, so the mutations start
 * from bytes the protocol really produces. Only public entry points are used: the MeshCore
 * constructor and `handle(event, now)`, and the crypto functions (to re-prove mutated requests).
 *
 *   const rig = buildRig(new Rng(1), Date.now());
 *   rig.seeds; // [{ name: 'message', headers, body, signer }, ...]
 */
import {
  computeProof,
  deriveLinkKey,
  deriveUuid,
  generateKeyPairs,
  requestSigningInput,
  signEd25519,
  toB64u,
} from '../../src/crypto/index.ts';
import type { CoreInit } from '../../src/protocol/config.ts';
import type { CoreEvent, Effect } from '../../src/protocol/events.ts';
import { MeshCore } from '../../src/protocol/node.ts';
import type { ContactRecord, PersistOp, SelfRecord } from '../../src/protocol/types.ts';
import type { Rng } from './rng.ts';

/** A `send` effect of a core. */
export type SendEffect = Extract<Effect, { type: 'send' }>;
/** A `request` event for a core. */
export type RequestEvent = Extract<CoreEvent, { type: 'request' }>;

/** Who can prove a (mutated) request again: a contact (link key) or a stranger (Ed25519). */
export type Signer =
  | { kind: 'contact'; from: SelfRecord; to: SelfRecord; secret: Uint8Array }
  | { kind: 'stranger'; from: SelfRecord };

/** One valid request to A, as a real core produced it. */
export interface Seed {
  name: string;
  headers: Record<string, string>;
  body: Uint8Array;
  /** The IP the request comes from (the sender's host). */
  host: string;
  signer: Signer;
}

/** One party of the rig: identity, advertised address and its live core. */
export interface Party {
  self: SelfRecord;
  address: string;
  core: MeshCore;
}

/** Addresses of the rig's parties ("ip:port"). */
export interface RigAddresses {
  A: string;
  B: string;
  C: string;
  S: string;
  D: string;
}

/** A (the node under test), its contacts B and C, strangers S and D, and seeds made by their cores. */
export interface Rig {
  A: Party;
  B: Party;
  C: Party;
  S: Party;
  D: Party;
  /** The contact records A starts with (B and C), for a Store. */
  aContacts: ContactRecord[];
  /** The write A's core made for the invite S uses (so a real node's Store can hold it too). */
  aInvite: PersistOp[];
  seeds: Seed[];
  /** Answers B's core gave to A's requests (for response fuzzing). */
  responses: { status: number; body: Uint8Array }[];
}

/** The default rig addresses (in process: never dialled, only compared). */
export const IN_PROCESS_ADDRESSES: RigAddresses = {
  A: '10.7.0.1:7575',
  B: '10.7.0.2:7575',
  C: '10.7.0.3:7575',
  S: '10.7.0.4:7575',
  D: '10.7.0.5:7575',
};

function identity(rng: Rng, name: string, now: number): SelfRecord {
  const keys = generateKeyPairs((n) => rng.bytes(n));
  return { uuid: deriveUuid(keys.signPub, keys.boxPub), name, ...keys, createdAt: now };
}

/** A's (or anyone's) record of a contact. */
export function contactRecord(
  other: SelfRecord,
  secret: Uint8Array,
  address: string | null,
  now: number,
): ContactRecord {
  return {
    uuid: other.uuid,
    name: other.name,
    signPub: other.signPub,
    boxPub: other.boxPub,
    secret,
    address,
    status: 'active',
    lastSeen: now,
    addedAt: now,
    domain: null,
  };
}

function core(
  rng: Rng,
  self: SelfRecord,
  address: string,
  contacts: ContactRecord[],
  now: number,
  init: CoreInit = {},
) {
  return new MeshCore(
    { self, addresses: [address], contacts, referrals: [], invites: [], requests: [], outbox: [], deliveredIds: [] },
    { random: (n) => rng.bytes(n) },
    { port: Number(address.slice(address.lastIndexOf(':') + 1)), ...init },
    now,
  );
}

const sends = (fx: Effect[]) => fx.filter((e): e is SendEffect => e.type === 'send');
const hostOf = (address: string) => address.slice(0, address.lastIndexOf(':'));
let commandIds = 1;
const cmd = (command: Extract<CoreEvent, { type: 'command' }>['command']): CoreEvent => ({
  type: 'command',
  commandId: commandIds++,
  command,
});

/** Builds the rig and its seeds at time `now`. */
export function buildRig(rng: Rng, now: number, addresses: RigAddresses = IN_PROCESS_ADDRESSES): Rig {
  const [a, b, c, s, d] = ['alice', 'bob', 'carol', 'sam', 'dora'].map((n) => identity(rng, n, now));
  const sAB = rng.bytes(32);
  const sAC = rng.bytes(32);
  const sBC = rng.bytes(32);
  const aContacts = [contactRecord(b, sAB, addresses.B, now), contactRecord(c, sAC, addresses.C, now)];
  const party = (self: SelfRecord, address: string, contacts: ContactRecord[], init?: CoreInit): Party => ({
    self,
    address,
    core: core(rng, self, address, contacts, now, init),
  });
  const A = party(
    a,
    addresses.A,
    aContacts.map((x) => ({ ...x })),
  );
  // B forwards referrals (off by default since contact digests, issue 11): the corpus needs one.
  const B = party(b, addresses.B, [contactRecord(a, sAB, addresses.A, now), contactRecord(c, sBC, addresses.C, now)], {
    referralRadius: 1,
  });
  const C = party(c, addresses.C, [contactRecord(a, sAC, addresses.A, now), contactRecord(b, sBC, addresses.B, now)]);
  const S = party(s, addresses.S, []);
  const D = party(d, addresses.D, []);
  const fromB: Signer = { kind: 'contact', from: b, to: a, secret: sAB };
  const fromC: Signer = { kind: 'contact', from: c, to: a, secret: sAC };
  const seeds: Seed[] = [];
  const toA = (fx: Effect[]) => sends(fx).filter((e) => e.address === addresses.A);
  const add = (name: string, e: SendEffect | undefined, host: string, signer: Signer) => {
    if (!e) throw new Error(`fuzz corpus: no ${name} request was produced`);
    seeds.push({ name, headers: { ...e.headers }, body: e.body, host, signer });
  };

  // B → A: a text message, and B's presence announce (program start).
  add(
    'message',
    toA(B.core.handle(cmd({ kind: 'send', to: a.uuid, text: 'hello from bob' }), now))[0],
    hostOf(B.address),
    fromB,
  );
  add('announce', toA(B.core.handle(cmd({ kind: 'start' }), now))[0], hostOf(B.address), fromB);

  // C → A: a message too (a second contact).
  add(
    'message-c',
    toA(C.core.handle(cmd({ kind: 'send', to: a.uuid, text: 'x'.repeat(300) }), now))[0],
    hostOf(C.address),
    fromC,
  );

  // B → A: an IP search for C (B's direct attempt to C failed), which A relays to C.
  const toC = sends(B.core.handle(cmd({ kind: 'send', to: c.uuid, text: 'where are you?' }), now))[0];
  add(
    'ip-relay',
    toA(B.core.handle({ type: 'send-failed', requestId: toC.requestId, reason: 'CONNECT_FAILED' }, now))[0],
    hostOf(B.address),
    fromB,
  );

  // C searches A through B; B relays it to A directly: an IP for A itself, carried by B.
  const cToA = sends(C.core.handle(cmd({ kind: 'send', to: a.uuid, text: 'hi alice' }), now))[0];
  const cIp = sends(
    C.core.handle({ type: 'send-failed', requestId: cToA.requestId, reason: 'CONNECT_FAILED' }, now),
  ).find((e) => e.address === addresses.B);
  if (!cIp) throw new Error('fuzz corpus: C did not search through B');
  const bRelay = B.core.handle(
    { type: 'request', requestId: 1, remote: `${hostOf(C.address)}:40000`, headers: cIp.headers, body: cIp.body },
    now,
  );
  add('ip-for-self', toA(bRelay)[0], hostOf(B.address), fromB);

  // C moved to another port: B tells A by referral (hops 1).
  const C2 = party(c, `${hostOf(addresses.C)}:7576`, [contactRecord(b, sBC, addresses.B, now)], { port: 7576 });
  const moved = sends(C2.core.handle(cmd({ kind: 'send', to: b.uuid, text: 'new port' }), now))[0];
  const bRef = B.core.handle(
    { type: 'request', requestId: 2, remote: `${hostOf(C.address)}:40001`, headers: moved.headers, body: moved.body },
    now,
  );
  add(
    'referral',
    toA(bRef).find((e) => e.headers['mesh-type'] === 'referral'),
    hostOf(B.address),
    fromB,
  );

  // Stranger S uses A's invite (signed first contact with the encrypted card).
  const invFx = A.core.handle(cmd({ kind: 'invite', addresses: [addresses.A] }), now);
  const aInvite = invFx.flatMap((e) => (e.type === 'persist' ? e.ops : [])).filter((o) => o.op === 'invite:put');
  const inv = invFx.find((e) => e.type === 'result');
  if (inv?.type !== 'result' || !inv.ok) throw new Error('fuzz corpus: no invite');
  const code = (inv.value as { code: string }).code;
  add('contact_req-invite', toA(S.core.handle(cmd({ kind: 'add', code }), now))[0], hostOf(S.address), {
    kind: 'stranger',
    from: s,
  });

  // B uses D's address-less invite: the contact_req travels through B's contacts, A among them.
  const dInv = D.core.handle(cmd({ kind: 'invite', addresses: [] }), now).find((e) => e.type === 'result');
  if (dInv?.type !== 'result' || !dInv.ok) throw new Error('fuzz corpus: no invite from D');
  add(
    'contact_req-routed',
    toA(B.core.handle(cmd({ kind: 'add', code: (dInv.value as { code: string }).code }), now))[0],
    hostOf(B.address),
    fromB,
  );

  // Answers B's core gives A: A sends B a message, B answers 200 with its proof.
  const responses: { status: number; body: Uint8Array }[] = [];
  const aToB = sends(A.core.handle(cmd({ kind: 'send', to: b.uuid, text: 'hi bob' }), now))[0];
  const answer = B.core
    .handle(
      { type: 'request', requestId: 3, remote: `${hostOf(A.address)}:40002`, headers: aToB.headers, body: aToB.body },
      now,
    )
    .find((e) => e.type === 'respond');
  if (answer && answer.type === 'respond') responses.push({ status: answer.status, body: answer.body });
  return { A, B, C, S, D, aContacts, aInvite, seeds, responses };
}

// A link key costs an X25519 and an HKDF: derive it once per signer.
const linkKeys = new WeakMap<Signer, Uint8Array>();

/**
 * Proves a request again after mutation, as its real sender would: Mesh-Secret under the link key
 * (contact) or Mesh-Pub-Key + Mesh-Signature (stranger). Header values are used as they are, so a
 * mutated header stays mutated — only the proof is made to match it.
 */
export function reprove(headers: Record<string, string>, body: Uint8Array, signer: Signer): void {
  const port = headers['mesh-port'];
  const input = requestSigningInput({
    version: Number(headers['mesh-version']),
    type: headers['mesh-type'] ?? '',
    from: headers['mesh-from'] ?? '',
    id: headers['mesh-id'] ?? '',
    ts: Number(headers['mesh-ts']),
    port: port === undefined ? null : Number(port),
    body,
  } as Parameters<typeof requestSigningInput>[0]);
  if (signer.kind === 'contact') {
    let link = linkKeys.get(signer);
    if (!link) {
      link = deriveLinkKey(signer.from.boxPriv, signer.to.boxPub, signer.secret, signer.from.uuid, signer.to.uuid);
      linkKeys.set(signer, link);
    }
    headers['mesh-secret'] = computeProof(link, input);
  } else {
    const pub = new Uint8Array(64);
    pub.set(signer.from.signPub, 0);
    pub.set(signer.from.boxPub, 32);
    headers['mesh-pub-key'] = toB64u(pub);
    headers['mesh-signature'] = toB64u(signEd25519(signer.from.signPriv, input));
  }
}
