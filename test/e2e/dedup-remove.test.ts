/**
 * End-to-end, against a real daemon (bin/mesh start on 127.0.0.190) whose contacts are keys this
 * test holds (it builds their Mesh requests by hand, test/e2e/raw-mesh.ts):
 * - issue 12 #18: contact B sends first with the id of A's message; A's message is still delivered.
 * - `mesh contacts remove` (DESIGN.md §7): the removed contact is then answered as a stranger, and the
 *   CLI says clearly when a name is unknown or ambiguous.
 * - `mesh inbox --clear [--before TIME]`: deletes and counts; a retry of a cleared message is still
 *   recognised after a restart (the de-duplication memory outlives the inbox row).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { Agent, request } from 'undici';
import {
  aeadSeal,
  deriveLinkKey,
  deriveUuid,
  generateKeyPairs,
  messageKey,
  toB64u,
  utf8,
} from '../../src/crypto/index.ts';
import type { ContactRecord, SelfRecord } from '../../src/protocol/types.ts';
import { SqliteStore } from '../../src/store/index.ts';
import { cleanup, initNode, mesh, meshJson, type RunningNode, startNode } from './cli-helpers.ts';
import { meshHeaders } from './raw-mesh.ts';

const V_HOST = '127.0.0.190';
const API_PORT = 17730;
const rand = (n: number) => new Uint8Array(randomBytes(n));

type Keys = { uuid: string; signPriv: Uint8Array; signPub: Uint8Array; boxPriv: Uint8Array; boxPub: Uint8Array };
/** A contact of the victim as this test holds it: keys and the link key with the victim. */
type Peer = { name: string; keys: Keys; secret: Uint8Array; link: Uint8Array };
type InboxRow = { id: string; from: string; text: string; sentAt: number; receivedAt: number };

function newKeys(): Keys {
  const k = generateKeyPairs(rand);
  return { ...k, uuid: deriveUuid(k.signPub, k.boxPub) };
}

const agent = new Agent({ connect: { rejectUnauthorized: false } });

/** POSTs a Mesh request to the victim; the answer's status and JSON body. */
async function post(headers: Record<string, string>, body: Uint8Array) {
  const r = await request(`https://${V_HOST}:7575/mesh`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
    dispatcher: agent,
  });
  return { status: r.statusCode, json: JSON.parse(await r.body.text()) as { error?: string; message?: string } };
}

describe('message dedup per sender, contacts remove, inbox --clear (real daemon)', { timeout: 180_000 }, () => {
  let V: RunningNode;
  let dir: string;
  let vSelf: SelfRecord;
  const peers = new Map<string, Peer>();
  const peer = (name: string) => peers.get(name)!;

  /** A chat message from `p`, sealed and authenticated exactly as a node sends it. */
  function message(p: Peer, plain: { id: string; text: string; sentAt: number }) {
    const nonce = rand(12);
    const ct = aeadSeal(
      messageKey(p.link, p.keys.uuid),
      nonce,
      utf8(JSON.stringify(plain)),
      utf8(`mesh-v1-message|${p.keys.uuid}|${vSelf.uuid}`),
    );
    const body = utf8(JSON.stringify({ nonce: toB64u(nonce), ct: toB64u(ct) }));
    return post(meshHeaders(p.keys, 'message', body, p.link), body);
  }
  const inbox = () => meshJson<InboxRow[]>(dir, 'inbox', '--limit', '1000');
  const start = async () => {
    V = await startNode(dir, V_HOST, API_PORT);
  };

  before(async () => {
    const v = await initNode('victim');
    dir = v.dir;
    const store = SqliteStore.open(join(dir, 'mesh.db'));
    vSelf = store.getSelf()!;
    const now = Date.now();
    const records: ContactRecord[] = [];
    for (const name of ['alice', 'bob', 'twin', 'twin']) {
      const keys = newKeys();
      const secret = rand(32);
      const link = deriveLinkKey(keys.boxPriv, vSelf.boxPub, secret, keys.uuid, vSelf.uuid);
      peers.set(name === 'twin' && peers.has('twin') ? 'twin2' : name, { name, keys, secret, link });
      // No address: the victim has nothing to announce to; these contacts only ever call it.
      records.push({
        uuid: keys.uuid,
        name,
        signPub: keys.signPub,
        boxPub: keys.boxPub,
        secret,
        address: null,
        status: 'active',
        lastSeen: now,
        addedAt: now,
        domain: null,
      });
    }
    store.apply(records.map((contact) => ({ op: 'contact:put', contact })));
    store.close();
    await start();
  });

  after(async () => {
    await V?.stop();
    await agent.close();
    await cleanup();
  });

  test('#18 B’s pre-emptive message with A’s id does not hide A’s message', async () => {
    const id = toB64u(rand(16)); // the id A will use, learnt or guessed by B
    const sentAt = Date.now();
    const b = await message(peer('bob'), { id, text: 'B got there first', sentAt });
    assert.equal(b.status, 200);
    const a = await message(peer('alice'), { id, text: 'the real message from A', sentAt });
    assert.equal(a.status, 200);
    const rows = (await inbox()).filter((m) => m.id === id);
    const pairs = (list: string[][]) => list.map((x) => x.join(' ')).sort();
    assert.deepEqual(
      pairs(rows.map((m) => [m.from, m.text])),
      pairs([
        [peer('alice').keys.uuid, 'the real message from A'],
        [peer('bob').keys.uuid, 'B got there first'],
      ]),
    );
    // A's retry of the same message is still recognised (once per sender, not once per id).
    const retry = await message(peer('alice'), { id, text: 'the real message from A', sentAt });
    assert.equal(retry.status, 200);
    assert.equal((await inbox()).filter((m) => m.id === id).length, 2);
  });

  test('mesh contacts remove: unknown and ambiguous names are refused clearly, nothing removed', async () => {
    const unknown = await mesh(dir, 'contacts', 'remove', 'nobody');
    assert.notEqual(unknown.code, 0);
    assert.match(unknown.stderr, /nobody/);
    const twins = await mesh(dir, 'contacts', 'remove', 'twin', '--json');
    assert.equal(twins.code, 2, 'an ambiguous name is a usage error');
    assert.match(twins.stderr, /matches 2 contacts; use the UUID/);
    assert.equal((await meshJson<unknown[]>(dir, 'contacts')).length, 4);
  });

  test('mesh contacts remove <name>: gone from contacts; its requests then get the stranger’s answer', async () => {
    const bob = peer('bob');
    const r = await meshJson<{ uuid: string }>(dir, 'contacts', 'remove', 'bob');
    assert.deepEqual(r, { uuid: bob.keys.uuid });
    const contacts = await meshJson<{ uuid: string }[]>(dir, 'contacts');
    assert.ok(!contacts.some((c) => c.uuid === bob.keys.uuid));
    const human = await mesh(dir, 'contacts', 'remove', peer('twin2').keys.uuid);
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Removed twin/);

    const before = (await inbox()).length;
    const fromBob = await message(bob, { id: 'after-removal', text: 'still there?', sentAt: Date.now() });
    const stranger: Peer = { name: 's', keys: newKeys(), secret: rand(32), link: rand(32) };
    const fromStranger = await message(stranger, { id: 'x', text: 'hello', sentAt: Date.now() });
    assert.equal(fromBob.status, 401);
    assert.deepEqual(fromBob, fromStranger, 'the removed contact is answered exactly as a stranger');
    assert.equal((await inbox()).length, before, 'nothing delivered');
    // Removal is persisted: still gone after a restart.
    await V.stop();
    await start();
    const again = await meshJson<{ uuid: string }[]>(dir, 'contacts');
    assert.deepEqual(again.map((c) => c.uuid).sort(), [peer('alice').keys.uuid, peer('twin').keys.uuid].sort());
  });

  test('mesh inbox --clear [--before TIME]: counts, keeps newer rows, and a cleared message is not delivered again', async () => {
    const alice = peer('alice');
    const old = { id: 'old-one', text: 'old', sentAt: Date.now() };
    assert.equal((await message(alice, old)).status, 200);
    await new Promise((r) => setTimeout(r, 30));
    const cut = Date.now();
    await new Promise((r) => setTimeout(r, 30));
    const fresh = { id: 'fresh-one', text: 'fresh', sentAt: Date.now() };
    assert.equal((await message(alice, fresh)).status, 200);
    const rows = await inbox();
    const older = rows.filter((m) => m.receivedAt < cut).length;
    assert.ok(older >= 2, 'the earlier test’s messages and "old"');

    const bad = await mesh(dir, 'inbox', '--clear', '--before', 'yesterday');
    assert.equal(bad.code, 2);
    assert.match(bad.stderr, /not a time; use unix milliseconds/);
    assert.equal((await inbox()).length, rows.length, 'a bad TIME deletes nothing');

    const r = await meshJson<{ deleted: number }>(dir, 'inbox', '--clear', '--before', new Date(cut).toISOString());
    assert.equal(r.deleted, older);
    assert.deepEqual(
      (await inbox()).map((m) => m.id),
      ['fresh-one'],
    );
    // Alice's outbox retries "old" (its ack was lost): across a restart, it is acknowledged, not delivered again.
    await V.stop();
    await start();
    assert.equal((await message(alice, old)).status, 200);
    assert.deepEqual(
      (await inbox()).map((m) => m.id),
      ['fresh-one'],
    );
    const human = await mesh(dir, 'inbox', '--clear');
    assert.equal(human.code, 0, human.stderr);
    assert.match(human.stdout, /Deleted 1 received message\./);
    assert.deepEqual(await inbox(), []);
    assert.equal((await message(alice, fresh)).status, 200, 'acknowledged');
    assert.deepEqual(await inbox(), [], 'and still not delivered twice');
  });
});
