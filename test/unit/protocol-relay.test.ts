/**
 * The relay's side of docs/PROTOCOL.md §16.2 and the introducer's registration (§16.4), one core
 * driven event by event: the documented refusals, the per-contact budget, nothing stored.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  computeProof,
  deriveLinkKey,
  deriveUuid,
  generateKeyPairs,
  requestSigningInput,
  toB64u,
} from '../../src/crypto/index.ts';
import { decodeJson, encodeJson } from '../../src/protocol/codec.ts';
import {
  INTRODUCE_MAX_PER_CONTACT,
  RELAY_PATH_MAX_PER_CONTACT,
  RELAY_PATH_WINDOW_MS,
} from '../../src/protocol/constants.ts';
import type { CoreEvent, Effect } from '../../src/protocol/events.ts';
import { MeshCore } from '../../src/protocol/node.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';
import { seededRandom } from '../../src/testing/testnet.ts';

const T0 = 1_767_225_600_000;
const rng = seededRandom(1010);
const rand = (n: number) => rng.bytes(n);

function ident(name: string, n: number): { self: SelfRecord; address: string } {
  const k = generateKeyPairs(rand);
  return {
    self: { uuid: deriveUuid(k.signPub, k.boxPub), name, ...k, createdAt: T0 },
    address: `198.51.100.${n}:7575`,
  };
}

const R = ident('relay', 1);
const A = ident('alice', 2);
const B = ident('bob', 3);
const C = ident('carl', 4); // not a contact of the relay
const secrets = new Map([
  [A.self.uuid, rand(32)],
  [B.self.uuid, rand(32)],
]);

function contact(who: ReturnType<typeof ident>): ContactRecord {
  return {
    uuid: who.self.uuid,
    name: who.self.name,
    signPub: who.self.signPub,
    boxPub: who.self.boxPub,
    secret: secrets.get(who.self.uuid) as Uint8Array,
    address: who.address,
    status: 'active',
    lastSeen: T0,
    addedAt: T0,
    domain: null,
  };
}

function relayCore(): MeshCore {
  const core = new MeshCore(
    {
      self: R.self,
      addresses: [R.address],
      contacts: [contact(A), contact(B)],
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
  core.handle({ type: 'command', commandId: 1, command: { kind: 'start' } }, T0);
  return core;
}

let nextId = 1;
/** A request from contact A to the relay, with A's Mesh-Secret. */
function fromA(type: 'relay' | 'introduce', body: unknown, now: number): CoreEvent {
  const id = toB64u(rand(16));
  const bytes = encodeJson(body);
  const input = requestSigningInput({ version: 1, type, from: A.self.uuid, id, ts: now, port: 7575, body: bytes });
  const link = deriveLinkKey(
    A.self.boxPriv,
    R.self.boxPub,
    secrets.get(A.self.uuid) as Uint8Array,
    A.self.uuid,
    R.self.uuid,
  );
  return {
    type: 'request',
    requestId: nextId++,
    remote: '198.51.100.2:40000',
    headers: {
      'mesh-version': '1',
      'mesh-type': type,
      'mesh-from': A.self.uuid,
      'mesh-id': id,
      'mesh-ts': String(now),
      'mesh-port': '7575',
      'mesh-secret': computeProof(link, input),
    },
    body: bytes,
  };
}

const respond = (fx: Effect[]) =>
  fx.find((e) => e.type === 'respond') as Extract<Effect, { type: 'respond' }> | undefined;
const errorOf = (fx: Effect[]) => {
  const r = respond(fx);
  return r ? { status: r.status, code: (decodeJson(r.body) as { error?: string }).error } : null;
};
const relayBody = (to: string, from = A.self.uuid) => ({ from, to, sealed: toB64u(rand(120)) });

describe('the relay (PROTOCOL.md §16.2)', () => {
  it('refuses a target that is not its contact, and one without a channel: 504 UNREACHABLE', () => {
    const core = relayCore();
    assert.deepEqual(errorOf(core.handle(fromA('relay', relayBody(C.self.uuid), T0), T0)), {
      status: 504,
      code: 'UNREACHABLE',
    });
    assert.deepEqual(errorOf(core.handle(fromA('relay', relayBody(B.self.uuid), T0), T0)), {
      status: 504,
      code: 'UNREACHABLE',
    });
  });

  it('refuses a body whose "from" is not the sender: 400 BAD_REQUEST', () => {
    const core = relayCore();
    core.handle({ type: 'command', commandId: 2, command: { kind: 'channel', uuid: B.self.uuid, open: true } }, T0);
    const fx = core.handle(fromA('relay', relayBody(B.self.uuid, C.self.uuid), T0), T0);
    assert.deepEqual(errorOf(fx), { status: 400, code: 'BAD_REQUEST' });
  });

  it('with a channel to the target: forwards the same body to it, stores nothing, answers with its data', () => {
    const core = relayCore();
    core.handle({ type: 'command', commandId: 2, command: { kind: 'channel', uuid: B.self.uuid, open: true } }, T0);
    const body = relayBody(B.self.uuid);
    const fx = core.handle(fromA('relay', body, T0), T0);
    const sends = fx.filter((e) => e.type === 'send');
    assert.equal(sends.length, 1);
    const s = sends[0] as Extract<Effect, { type: 'send' }>;
    assert.equal(s.kind, 'relay-forward');
    assert.equal(s.address, B.address);
    assert.equal(s.headers['mesh-type'], 'relay');
    assert.deepEqual(decodeJson(s.body), body);
    assert.equal(respond(fx), undefined, 'answered only when the target answers');
    const stored = fx.flatMap((e) => (e.type === 'persist' ? e.ops.map((o) => o.op) : []));
    assert.ok(
      stored.every((op) => op === 'contact:put'),
      `only the sender's lastSeen may be written: ${stored}`,
    );
    // The target's failure goes back as 504 UNREACHABLE.
    const failed = core.handle({ type: 'send-failed', requestId: s.requestId, reason: 'CONNECT_FAILED' }, T0);
    assert.deepEqual(errorOf(failed), { status: 504, code: 'UNREACHABLE' });
  });

  it(`holds a contact to ${RELAY_PATH_MAX_PER_CONTACT} relayed requests per window: then 429 OVER_LIMIT, LIMIT_RELAYED counted`, () => {
    const core = relayCore();
    core.handle({ type: 'command', commandId: 2, command: { kind: 'channel', uuid: B.self.uuid, open: true } }, T0);
    for (let i = 0; i < RELAY_PATH_MAX_PER_CONTACT; i++) {
      const fx = core.handle(fromA('relay', relayBody(B.self.uuid), T0 + i), T0 + i);
      assert.equal(errorOf(fx), null, `request ${i} within the budget`);
    }
    const over = core.handle(fromA('relay', relayBody(B.self.uuid), T0 + 2000), T0 + 2000);
    assert.deepEqual(errorOf(over), { status: 429, code: 'OVER_LIMIT' });
    assert.ok(over.some((e) => e.type === 'drop' && e.reason === 'LIMIT_RELAYED'));
    const later = T0 + RELAY_PATH_WINDOW_MS + 1;
    assert.equal(errorOf(core.handle(fromA('relay', relayBody(B.self.uuid), later), later)), null, 'a new window');
  });
});

describe('introductions (PROTOCOL.md §16.4)', () => {
  it(`registers a contact's invites, at most ${INTRODUCE_MAX_PER_CONTACT} live ones, and refuses expired ones`, () => {
    const core = relayCore();
    const expiresAt = T0 + 3_600_000;
    for (let i = 0; i < INTRODUCE_MAX_PER_CONTACT; i++) {
      const invite = toB64u(rand(8));
      const fx = core.handle(fromA('introduce', { invite, expiresAt }, T0), T0);
      assert.equal(respond(fx)?.status, 200);
      assert.equal(core.state.introductions.get(invite)?.inviter, A.self.uuid);
    }
    const over = core.handle(fromA('introduce', { invite: toB64u(rand(8)), expiresAt }, T0), T0);
    assert.deepEqual(errorOf(over), { status: 429, code: 'OVER_LIMIT' });
    assert.ok(over.some((e) => e.type === 'drop' && e.reason === 'LIMIT_INTRODUCED'));
    const old = core.handle(fromA('introduce', { invite: toB64u(rand(8)), expiresAt: T0 - 1 }, T0), T0);
    assert.deepEqual(errorOf(old), { status: 400, code: 'BAD_REQUEST' });
  });
});
