/**
 * Golden vectors of the punch messages (docs/PROTOCOL.md §17.6), produced by the real core: A's
 * `connect` and `sync` (body and Mesh-Secret), B's answer (data and proof), and the decoder's bounds.
 * Keys and link secret as in §11.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveUuid, fromB64u, keyPairsFromSeed } from '../../src/crypto/index.ts';
import { decodeBody, decodeJson } from '../../src/protocol/codec.ts';
import type { Effect } from '../../src/protocol/events.ts';
import { MeshCore } from '../../src/protocol/node.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';

const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);
const A = keyPairsFromSeed(seq(0x00, 64));
const B = keyPairsFromSeed(seq(0x40, 64));
const uA = deriveUuid(A.signPub, A.boxPub);
const uB = deriveUuid(B.signPub, B.boxPub);
const SECRET = new Uint8Array(32).fill(0x11);
const TS = 1767225600000;
const text = (b: Uint8Array) => new TextDecoder().decode(b);

const V = {
  attempt: 'AQEBAQEBAQEBAQEBAQEBAQ',
  connectBody: '{"op":"connect","attempt":"AQEBAQEBAQEBAQEBAQEBAQ","candidates":["198.18.0.21:7576"]}',
  connectId: 'AgICAgICAgICAgICAgICAg',
  connectSecret: 'sw-6oDrrSBt4IJCgSajDt9TET1-uh6rP1xxgdMv9H3w',
  answer:
    '{"observed":"198.18.0.21:40001","secret":"KZoLnCo54e_eOEUy49OzkMgaKMMNVRkVnB6HVNPWuLg","data":"eyJjYW5kaWRhdGVzIjpbIjE5OC4xOC4wLjIyOjc1NzYiXX0"}',
  answerData: '{"candidates":["198.18.0.22:7576"]}',
  syncBody: '{"op":"sync","attempt":"AQEBAQEBAQEBAQEBAQEBAQ"}',
  syncId: 'AwMDAwMDAwMDAwMDAwMDAw',
  syncSecret: 'UmP4-M8HlufH8g1knlbH3w-CEDwFIoAfVJ9NoDj-0gU',
};

function core(me: typeof A, uuid: string, other: typeof A, otherUuid: string, observedHost: string): MeshCore {
  const self: SelfRecord = { uuid, name: 'x', ...me, createdAt: TS };
  const contact: ContactRecord = {
    uuid: otherUuid,
    name: 'y',
    signPub: other.signPub,
    boxPub: other.boxPub,
    secret: SECRET,
    address: '198.18.0.99:7575',
    status: 'active',
    lastSeen: TS,
    addedAt: TS,
    domain: null,
  };
  const snapshot = {
    self,
    addresses: ['10.77.1.10:7575'],
    contacts: [contact],
    referrals: [],
    invites: [],
    requests: [],
    outbox: [],
    deliveredIds: [],
  };
  let k = 0; // random draws are 1…, 2…, 3…: the attempt id, then each Mesh-Id
  const c = new MeshCore(snapshot, { random: (n) => new Uint8Array(n).fill(++k) }, { punchPort: 7576 }, TS);
  c.state.lastObserved = observedHost;
  return c;
}

const sendOf = (fx: Effect[]) => fx.find((e): e is Extract<Effect, { type: 'send' }> => e.type === 'send');
const respondOf = (fx: Effect[]) => fx.find((e): e is Extract<Effect, { type: 'respond' }> => e.type === 'respond');

describe('punch messages: golden vectors (docs/PROTOCOL.md §17.6)', () => {
  const a = core(A, uA, B, uB, '198.18.0.21');
  const b = core(B, uB, A, uA, '198.18.0.22');
  const connect = sendOf(a.handle({ type: 'command', commandId: 1, command: { kind: 'punch', uuid: uB } }, TS));
  it("A's connect", () => {
    assert.ok(connect);
    assert.equal(connect.headers['mesh-type'], 'punch');
    assert.equal(connect.headers['mesh-id'], V.connectId);
    assert.equal(connect.headers['mesh-ts'], String(TS));
    assert.equal(text(connect.body), V.connectBody);
    assert.equal(connect.headers['mesh-secret'], V.connectSecret);
  });
  const fx = b.handle(
    { type: 'request', requestId: 1, remote: '198.18.0.21:40001', headers: connect!.headers, body: connect!.body },
    TS,
  );
  const answer = respondOf(fx);
  it("B's answer", () => {
    assert.ok(answer);
    assert.equal(answer.status, 200);
    assert.equal(text(answer.body), V.answer);
    const data = (decodeJson(answer.body) as { data: string }).data;
    assert.equal(text(fromB64u(data)), V.answerData);
  });
  it("A's sync, and both ends' punch effects (A, the lower UUID, is the TLS client)", () => {
    const fa = a.handle({ type: 'response', requestId: connect!.requestId, status: 200, body: answer!.body }, TS + 40);
    const sync = sendOf(fa);
    assert.ok(sync);
    assert.equal(text(sync.body), V.syncBody);
    assert.equal(sync.headers['mesh-id'], V.syncId);
    assert.equal(sync.headers['mesh-secret'], V.syncSecret);
    const pa = fa.find((e) => e.type === 'punch');
    assert.deepEqual(pa && { remotes: pa.remotes, role: pa.role, at: pa.at }, {
      remotes: ['198.18.0.22:7576'],
      role: 'client',
      at: TS + 60,
    });
    const fb = b.handle(
      { type: 'request', requestId: 2, remote: '198.18.0.21:40001', headers: sync.headers, body: sync.body },
      TS + 60,
    );
    const pb = fb.find((e) => e.type === 'punch');
    assert.deepEqual(pb && { remotes: pb.remotes, role: pb.role, at: pb.at }, {
      remotes: ['198.18.0.21:7576'],
      role: 'server',
      at: TS + 60,
    });
  });
});

describe('punch bodies: what the decoder refuses (BAD_REQUEST)', () => {
  const bad: Array<[string, unknown]> = [
    ['unknown op', { op: 'go', attempt: V.attempt }],
    ['short attempt', { op: 'sync', attempt: 'AQEB' }],
    ['candidates not an array', { op: 'connect', attempt: V.attempt, candidates: '1.2.3.4:5' }],
    ['five candidates', { op: 'connect', attempt: V.attempt, candidates: Array(5).fill('1.2.3.4:5') }],
    ['a host name', { op: 'connect', attempt: V.attempt, candidates: ['evil.example:443'] }],
    ['port 0', { op: 'connect', attempt: V.attempt, candidates: ['1.2.3.4:0'] }],
    ['no port', { op: 'connect', attempt: V.attempt, candidates: ['1.2.3.4'] }],
  ];
  for (const [desc, body] of bad) {
    it(desc, () => {
      const r = decodeBody('punch', new TextEncoder().encode(JSON.stringify(body)));
      assert.equal(r.ok, false);
      assert.equal(!r.ok && r.code, 'BAD_REQUEST');
    });
  }
  it('accepts an empty list, IPv4 and bracketed IPv6', () => {
    for (const candidates of [[], ['198.18.0.21:7576', '[2001:db8::1]:7576']]) {
      const r = decodeBody(
        'punch',
        new TextEncoder().encode(JSON.stringify({ op: 'connect', attempt: V.attempt, candidates })),
      );
      assert.ok(r.ok, JSON.stringify(candidates));
    }
  });
});
