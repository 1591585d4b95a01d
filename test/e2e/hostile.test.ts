/**
 * End-to-end: a stranger's garbage, oversized, replayed and forged requests against a real node
 * (bin/mesh start on 127.0.0.12:7575) get the documented errors, and the node keeps serving with its
 * stored data intact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { deriveUuid, generateKeyPairs, toB64u } from '../../src/crypto/index.ts';
import { befriend, cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';
import { meshHeaders, readFirstLink } from './raw-mesh.ts';

const URL_A = 'https://127.0.0.12:7575/mesh';
const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
const rand = (n: number) => new Uint8Array(randomBytes(n));

async function post(
  headers: Record<string, string>,
  body: Uint8Array | string,
  url = URL_A,
  method: 'POST' | 'GET' = 'POST',
) {
  const r = await request(url, {
    method,
    headers: { 'content-type': 'application/json', ...headers },
    body: method === 'POST' ? body : undefined,
    dispatcher,
  });
  const text = await r.body.text();
  return { status: r.statusCode, json: JSON.parse(text) as { error?: string; message?: string; observed?: string } };
}

type Contact = { uuid: string; address: string | null; status: string };

describe('hostile input against a real node', { timeout: 300_000 }, () => {
  let A: RunningNode;
  let B: RunningNode;
  let contactsBefore: Contact[];
  let asB: { uuid: string; signPriv: Uint8Array; signPub: Uint8Array; boxPub: Uint8Array };
  let linkBA: Uint8Array;

  before(async () => {
    const a = await initNode('alice');
    const b = await initNode('bob');
    A = await startNode(a.dir, '127.0.0.12', 17670);
    B = await startNode(b.dir, '127.0.0.13', 17671);
    await befriend(A, B);
    contactsBefore = await meshJson<Contact[]>(a.dir, 'contacts');
    // Read Bob's keys and link secret from his store (what a thief of his disk would have).
    ({ self: asB, link: linkBA } = readFirstLink(b.dir));
  });
  after(async () => {
    await dispatcher.close();
    await cleanup();
  });

  test('garbage: no Mesh headers → 400 BAD_REQUEST', async () => {
    const r = await post({}, '{"hello":');
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'BAD_REQUEST');
    assert.ok(r.json.message);
  });

  test('binary junk with valid-looking headers of a contact → 400 BAD_REQUEST', async () => {
    const junk = rand(300);
    const r = await post(meshHeaders(asB, 'message', junk, linkBA), junk);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'BAD_REQUEST');
  });

  test('wrong protocol version → 400 UNSUPPORTED_VERSION', async () => {
    const body = new TextEncoder().encode('{"referent":"x","hops":1}');
    const r = await post(meshHeaders(asB, 'referral', body, linkBA, { 'mesh-version': '2' }), body);
    assert.equal(r.status, 400);
    assert.equal(r.json.error, 'UNSUPPORTED_VERSION');
  });

  test('oversized body (100 KiB) → 413 TOO_LARGE', async () => {
    const big = `{"pad":"${'x'.repeat(100 * 1024)}"}`;
    const r = await post({ 'mesh-version': '1' }, big);
    assert.equal(r.status, 413);
    assert.equal(r.json.error, 'TOO_LARGE');
  });

  test('anything but POST /mesh → 404 NOT_FOUND', async () => {
    const r = await post({}, '', 'https://127.0.0.12:7575/', 'GET');
    assert.equal(r.status, 404);
    assert.equal(r.json.error, 'NOT_FOUND');
  });

  test('a stranger (not a contact) → 401 UNKNOWN_SENDER', async () => {
    const k = generateKeyPairs(rand);
    const stranger = { uuid: deriveUuid(k.signPub, k.boxPub), ...k };
    const body = new TextEncoder().encode(`{"referent":"${stranger.uuid}","hops":0}`);
    const r = await post(meshHeaders(stranger, 'referral', body, rand(32)), body);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'UNKNOWN_SENDER');
  });

  test('forged: Bob’s UUID with a wrong secret → 401 UNKNOWN_SENDER (as for a stranger: no contact oracle)', async () => {
    const body = new TextEncoder().encode(`{"referent":"${asB.uuid}","hops":0}`);
    const r = await post(meshHeaders(asB, 'referral', body, rand(32)), body);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'UNKNOWN_SENDER');
  });

  test('forged: a signed contact request whose signature is not the sender’s → 401 BAD_SIGNATURE', async () => {
    const k = generateKeyPairs(rand);
    const other = generateKeyPairs(rand);
    const stranger = { uuid: deriveUuid(k.signPub, k.boxPub), ...k, signPriv: other.signPriv };
    const body = new TextEncoder().encode(
      `{"to":null,"hops":1,"card":{"uuid":"${stranger.uuid}","name":"eve","signPub":"${toB64u(k.signPub)}","boxPub":"${toB64u(k.boxPub)}","address":null}}`,
    );
    const r = await post(meshHeaders(stranger, 'contact_req', body, null), body);
    assert.equal(r.status, 401);
    assert.equal(r.json.error, 'BAD_SIGNATURE');
  });

  test('replayed: a valid request from Bob sent twice → 200, then 409 REPLAYED', async () => {
    const body = new TextEncoder().encode(`{"referent":"${asB.uuid}","hops":0}`);
    const h = meshHeaders(asB, 'referral', body, linkBA);
    const first = await post(h, body);
    assert.equal(first.status, 200, JSON.stringify(first.json));
    assert.match(first.json.observed ?? '', /^127\.0\.0\.1:\d+$/);
    const again = await post(h, body);
    assert.equal(again.status, 409);
    assert.equal(again.json.error, 'REPLAYED');
  });

  test('a request outside the ±5 min window → 409 REPLAYED', async () => {
    const body = new TextEncoder().encode(`{"referent":"${asB.uuid}","hops":0}`);
    const old = meshHeaders(asB, 'referral', body, linkBA, { 'mesh-ts': String(Date.now() - 10 * 60_000) });
    const r = await post(old, body);
    assert.equal(r.status, 409);
    assert.equal(r.json.error, 'REPLAYED');
  });

  test('afterwards the node keeps serving and its data is intact', async () => {
    const st = await meshJson<{ uuid: string }>(A.dir, 'status');
    assert.equal(st.uuid, A.uuid);
    const m = await meshJson<{ id: string }>(B.dir, 'send', A.uuid, 'still here?');
    await waitFor(
      async () => (await meshJson<{ id: string }[]>(A.dir, 'inbox')).some((x) => x.id === m.id),
      20_000,
      'delivery',
    );
    const contactsAfter = await meshJson<Contact[]>(A.dir, 'contacts');
    assert.deepEqual(
      contactsAfter.map((c) => [c.uuid, c.address, c.status]),
      contactsBefore.map((c) => [c.uuid, c.address, c.status]),
    );
  });
});
