/**
 * End-to-end: base64url fields of a length no encoder produces (≡ 1 mod 4: 6 bits, not a whole byte)
 * against a real node (bin/mesh start on 127.0.0.14:7575). Issue 12, finding 15: they passed the
 * codec's alphabet check, then made the decoder throw inside the core — 500 INTERNAL, and the step's
 * in-memory changes lost. Each must be the documented 400 BAD_REQUEST, and the node keeps serving with
 * its stored data intact.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import { decodeInvite, deriveUuid, generateKeyPairs, inviteId, toB64u } from '../../src/crypto/index.ts';
import { isB64u } from '../../src/protocol/codec.ts';
import { befriend, cleanup, initNode, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';
import { meshHeaders, readFirstLink, type SenderKeys } from './raw-mesh.ts';

const HOST_A = '127.0.0.14';
const URL_A = `https://${HOST_A}:7575/mesh`;
const dispatcher = new Agent({ connect: { rejectUnauthorized: false } });
const rand = (n: number) => new Uint8Array(randomBytes(n));

/** `n` base64url characters: valid alphabet, any length (the point of these tests). */
const b64uChars = (n: number) => toB64u(rand(n)).padEnd(n, 'A').slice(0, n);

type Sender = SenderKeys;

/** Sends one request as `self`: with a contact's link proof, or signed like a stranger (link null). */
async function send(self: Sender, type: string, value: unknown, link: Uint8Array | null) {
  const body = new TextEncoder().encode(JSON.stringify(value));
  const headers = { 'content-type': 'application/json', ...meshHeaders(self, type, body, link) };
  const r = await request(URL_A, { method: 'POST', headers, body, dispatcher });
  const text = await r.body.text();
  return { status: r.statusCode, json: JSON.parse(text) as { error?: string; message?: string } };
}

type Contact = { uuid: string; address: string | null; status: string };

/**
 * The fix belongs in the core's codec (src/protocol/codec.ts isB64u must refuse what
 * crypto/b64u.ts isB64uDecodable refuses), which another branch is reshaping. Until it lands the
 * attacks still get 500 and these tests run as TODO (reported, not failing the suite); they arm
 * themselves as soon as the codec refuses a 5-character field.
 */
const codecFixed = !isB64u('AAAAA');
const pending = codecFixed ? false : 'the codec still lets base64url of length ≡ 1 (mod 4) through (finding 15)';

describe('base64url of an impossible length against a real node', { timeout: 300_000 }, () => {
  let A: RunningNode;
  let B: RunningNode;
  let asB: Sender;
  let linkBA: Uint8Array;
  let contactsBefore: Contact[];

  before(async () => {
    const [a, b] = await Promise.all([initNode('alice'), initNode('bob')]);
    [A, B] = await Promise.all([startNode(a.dir, HOST_A, 17674), startNode(b.dir, '127.0.0.15', 17675)]);
    await befriend(A, B);
    contactsBefore = await meshJson<Contact[]>(A.dir, 'contacts');
    // Bob's keys and link secret from his store: a contact that turned hostile.
    ({ self: asB, link: linkBA } = readFirstLink(B.dir));
  });
  after(async () => {
    await dispatcher.close();
    await cleanup();
  });

  /** The documented answer to a field that does not decode. */
  const badRequest = (r: { status: number; json: { error?: string } }, what: string) => {
    assert.equal(r.status, 400, `${what}: ${JSON.stringify(r.json)}`);
    assert.equal(r.json.error, 'BAD_REQUEST', what);
  };

  test('a contact’s message whose "ct" is 25 characters → 400 BAD_REQUEST', { todo: pending }, async () => {
    for (const n of [25, 29, 101]) {
      const r = await send(asB, 'message', { nonce: b64uChars(16), ct: b64uChars(n) }, linkBA);
      badRequest(r, `ct of ${n} chars`);
    }
  });

  test('a contact’s IP message whose "encrypted" is 1 or 5 characters → 400 BAD_REQUEST', {
    todo: pending,
  }, async () => {
    for (const n of [1, 5, 201]) {
      const r = await send(asB, 'IP', { to: A.uuid, hops: 1, encrypted: b64uChars(n) }, linkBA);
      badRequest(r, `encrypted of ${n} chars`);
    }
  });

  test('a stranger with an invite: contact_req whose "encrypted" is 9 characters → 400 BAD_REQUEST', {
    todo: pending,
  }, async () => {
    const { code } = await meshJson<{ code: string }>(A.dir, 'invite');
    const invite = inviteId(decodeInvite(code).secret);
    const k = generateKeyPairs(rand);
    const stranger = { uuid: deriveUuid(k.signPub, k.boxPub), ...k };
    const r = await send(stranger, 'contact_req', { to: null, hops: 1, invite, encrypted: b64uChars(9) }, null);
    badRequest(r, 'encrypted of 9 chars');
    // The invite is still good for the friend it was meant for.
    assert.deepEqual(await meshJson<unknown[]>(A.dir, 'requests'), []);
  });

  test('afterwards the node keeps serving and its data is intact', async () => {
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
