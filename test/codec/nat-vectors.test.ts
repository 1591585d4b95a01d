/**
 * Test vectors of docs/PROTOCOL.md §15.7 (dial-back and the announce's address fields): the
 * request proof of each body under the A↔B link key of §11, and the codec's acceptance/refusal.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { computeProof, fromB64u, requestSigningInput } from '../../src/crypto/index.ts';
import { decodeBody, encodeJson } from '../../src/protocol/codec.ts';

const LINK = fromB64u('pqbfugHL4TfqYcFVDyolih6rkz8GhveRwqAht4EOAus'); // §11 link key A↔B
const A = '3619e750-a2dd-82ba-9788-07b2a00df56d';
const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const TS = 1767225600000;

const secretOf = (type: string, body: string) =>
  computeProof(
    LINK,
    requestSigningInput({
      version: 1,
      type,
      from: A,
      id: ID,
      ts: TS,
      port: 7575,
      body: new TextEncoder().encode(body),
    }),
  );

const VECTORS = [
  {
    type: 'dialback',
    body: '{"op":"ask","nonce":"ERERERERERERERERERERER","port":7575}',
    secret: 'kbYsYeJp0r2jySesccdagwrlRSNSfmbZHiVtqP_TMzw',
  },
  {
    type: 'dialback',
    body: '{"op":"probe","nonce":"ERERERERERERERERERERER"}',
    secret: 'kzb6a7_Ap5CitSgwkksFdKZqYAHDVabrgqMQlGj7EBw',
  },
  {
    type: 'referral',
    body: `{"referent":"${A}","hops":0,"addr":"198.18.0.21:7575","dialable":false,"lan":"10.77.1.10:7575"}`,
    secret: 'Mis_4SmvX1t7x1Zmcv-YfVz3MKmPKV6q0bR5G-LsxeA',
  },
];

test('§15.7 vectors: Mesh-Secret of dial-back and announce bodies', () => {
  for (const v of VECTORS) {
    const got = secretOf(v.type, v.body);
    assert.equal(got, v.secret, `${v.type} ${v.body}`);
  }
});

test('§15 bodies decode; malformed ones are BAD_REQUEST', () => {
  const ok = (type: 'dialback' | 'referral', o: unknown) => decodeBody(type, encodeJson(o)).ok;
  assert.equal(ok('dialback', { op: 'ask', nonce: 'ERERERERERERERERERERER', port: 7575 }), true);
  assert.equal(ok('dialback', { op: 'probe', nonce: 'ERERERERERERERERERERER' }), true);
  assert.equal(ok('dialback', { op: 'ask', nonce: 'ERERERERERERERERERERER', port: 0 }), false);
  assert.equal(ok('dialback', { op: 'ask', nonce: 'short', port: 7575 }), false);
  assert.equal(ok('dialback', { op: 'other', nonce: 'ERERERERERERERERERERER' }), false);
  assert.equal(ok('referral', { referent: A, hops: 0, addr: '198.18.0.21:7575', dialable: false }), true);
  assert.equal(ok('referral', { referent: A, hops: 0, addr: 'not an address' }), false);
  assert.equal(ok('referral', { referent: A, hops: 0, dialable: 'no' }), false);
  assert.equal(ok('referral', { referent: A, hops: 0, lan: 7 }), false);
});
