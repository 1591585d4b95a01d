/**
 * End-to-end: real `mesh` processes on 127.0.0.x:7575, driven through bin/mesh as a user types it.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { befriend, cleanup, initNode, mesh, meshJson, startNode, waitFor } from './cli-helpers.ts';

type Contact = {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  lastSeen: number | null;
  status: string;
};
type Msg = { id: string; from: string; text: string; sentAt: number; receivedAt: number };

after(cleanup);

describe('mesh CLI end to end', { timeout: 600_000 }, () => {
  test('--help lists every command of the contract', async () => {
    const r = await mesh('/nonexistent', '--help');
    assert.equal(r.code, 0);
    for (const c of [
      'init',
      'start',
      'id',
      'invite',
      'add',
      'requests',
      'accept',
      'reject',
      'contacts',
      'send',
      'inbox',
      'status',
      'sim',
    ])
      assert.match(r.stdout, new RegExp(`\\b${c}\\b`), c);
  });

  test('init refuses to overwrite; commands without a daemon say how to start it', async () => {
    const a = await initNode('alice');
    const again = await mesh(a.dir, 'init');
    assert.notEqual(again.code, 0);
    assert.match(again.stderr, /refusing to overwrite/);
    const id = await meshJson<{ uuid: string; name: string; publicKey: string; listen: string[] }>(a.dir, 'id');
    assert.equal(id.uuid, a.uuid);
    assert.equal(id.name, 'alice');
    assert.deepEqual(id.listen, []);
    const contacts = await mesh(a.dir, 'contacts');
    assert.equal(contacts.code, 3);
    assert.match(contacts.stderr, /not running — start it with `mesh start`/);
  });

  test('invite → add → same auth phrase → accept → chat both ways', async () => {
    const a = await initNode('alice');
    const b = await initNode('bob');
    const A = await startNode(a.dir, '127.0.0.2', 17610);
    const B = await startNode(b.dir, '127.0.0.3', 17611);
    const phrases = await befriend(A, B);
    assert.equal(phrases.added, phrases.requested);
    assert.match(phrases.added, /^[a-z]+( [a-z]+){5}$/);
    const sent = await meshJson<{ id: string }>(b.dir, 'send', 'alice', 'hello', 'alice');
    const back = await meshJson<{ id: string }>(a.dir, 'send', B.uuid, 'hi bob');
    const inA = await waitFor(
      async () => (await meshJson<Msg[]>(a.dir, 'inbox')).find((m) => m.id === sent.id),
      20_000,
      'alice to receive',
    );
    assert.equal(inA.text, 'hello alice');
    assert.equal(inA.from, B.uuid);
    const inB = await waitFor(
      async () => (await meshJson<Msg[]>(b.dir, 'inbox')).find((m) => m.id === back.id),
      20_000,
      'bob to receive',
    );
    assert.equal(inB.text, 'hi bob');
    const contacts = await meshJson<Contact[]>(a.dir, 'contacts');
    assert.equal(contacts.length, 1);
    assert.equal(contacts[0].address, '127.0.0.3:7575');
    assert.equal(contacts[0].online, true);
    const st = await meshJson<{
      uuid: string;
      contacts: { total: number; online: number };
      outbox: number;
      listen: string[];
    }>(a.dir, 'status');
    assert.equal(st.uuid, A.uuid);
    assert.deepEqual(st.contacts, { total: 1, online: 1 });
    assert.equal(st.outbox, 0);
    assert.deepEqual(st.listen, ['127.0.0.2:7575']);
    await A.stop();
    await B.stop();
  });

  test('a node restarts on another address and its contacts learn it', async () => {
    const a = await initNode('alice');
    const b = await initNode('bob');
    const A = await startNode(a.dir, '127.0.0.2', 17620);
    let B = await startNode(b.dir, '127.0.0.3', 17621);
    await befriend(A, B);
    await B.stop();
    B = await startNode(b.dir, '127.0.0.4', 17621);
    const c = await waitFor(
      async () => (await meshJson<Contact[]>(a.dir, 'contacts')).find((x) => x.address === '127.0.0.4:7575'),
      20_000,
      'new address',
    );
    assert.equal(c.uuid, B.uuid);
    await A.stop();
    await B.stop();
  });

  test("the seed's main scenario: A's address for C is stale; A finds C through mutual contact B, then talks directly", async () => {
    const [a, b, c] = [await initNode('anna'), await initNode('ben'), await initNode('cleo')];
    let A = await startNode(a.dir, '127.0.0.2', 17630);
    const B = await startNode(b.dir, '127.0.0.3', 17631);
    let C = await startNode(c.dir, '127.0.0.4', 17632);
    await befriend(A, B);
    await befriend(B, C);
    await befriend(A, C);
    // A goes offline; C moves to a new address while A cannot see it.
    await A.stop();
    await C.stop();
    C = await startNode(c.dir, '127.0.0.5', 17632);
    await waitFor(
      async () =>
        (await meshJson<Contact[]>(b.dir, 'contacts')).find((x) => x.uuid === C.uuid && x.address === '127.0.0.5:7575'),
      20_000,
      'B to learn C',
    );
    // A comes back believing C is at 127.0.0.4.
    const stale = await meshJson<{ uuid: string; address: string }>(a.dir, 'id');
    assert.equal(stale.uuid, A.uuid);
    A = await startNode(a.dir, '127.0.0.2', 17630);
    const msg = await meshJson<{ id: string }>(a.dir, 'send', 'cleo', 'found you through ben');
    const got = await waitFor(
      async () => (await meshJson<Msg[]>(c.dir, 'inbox')).find((m) => m.id === msg.id),
      30_000,
      'C to receive',
    );
    assert.equal(got.from, A.uuid);
    const cAtA = (await meshJson<Contact[]>(a.dir, 'contacts')).find((x) => x.uuid === C.uuid);
    assert.equal(cAtA?.address, '127.0.0.5:7575');
    // Now directly: a second message does not need B (B can even be gone).
    await B.stop();
    const msg2 = await meshJson<{ id: string }>(a.dir, 'send', 'cleo', 'direct now');
    await waitFor(
      async () => (await meshJson<Msg[]>(c.dir, 'inbox')).find((m) => m.id === msg2.id),
      20_000,
      'direct delivery',
    );
    await A.stop();
    await C.stop();
  });

  test('a message to an offline contact is delivered exactly once after it returns, across a sender restart', async () => {
    const a = await initNode('alice');
    const b = await initNode('bob');
    let A = await startNode(a.dir, '127.0.0.2', 17640);
    let B = await startNode(b.dir, '127.0.0.3', 17641);
    await befriend(A, B);
    await B.stop();
    const m = await meshJson<{ id: string }>(a.dir, 'send', 'bob', 'while you were away');
    const st = await waitFor(
      async () => {
        const s = await meshJson<{ outbox: number }>(a.dir, 'status');
        return s.outbox === 1 ? s : null;
      },
      20_000,
      'the message to wait in the outbox',
    );
    assert.equal(st.outbox, 1);
    await A.stop();
    A = await startNode(a.dir, '127.0.0.2', 17640);
    B = await startNode(b.dir, '127.0.0.3', 17641);
    await waitFor(
      async () => (await meshJson<Msg[]>(b.dir, 'inbox')).some((x) => x.id === m.id),
      60_000,
      'delivery after return',
    );
    // Give retries a moment, then check exactly one copy and an empty outbox.
    await new Promise((r) => setTimeout(r, 2000));
    const inbox = await meshJson<Msg[]>(b.dir, 'inbox');
    assert.equal(inbox.filter((x) => x.id === m.id).length, 1);
    assert.equal(inbox.filter((x) => x.text === 'while you were away').length, 1);
    await waitFor(
      async () => (await meshJson<{ outbox: number }>(a.dir, 'status')).outbox === 0,
      20_000,
      'outbox to drain',
    );
    await A.stop();
    await B.stop();
  });

  test('a contact request with a UUID-only invite travels through two intermediate nodes', async () => {
    const [r, x, y, i] = [
      await initNode('rita'),
      await initNode('xavi'),
      await initNode('yuki'),
      await initNode('ivan'),
    ];
    const R = await startNode(r.dir, '127.0.0.2', 17650);
    const X = await startNode(x.dir, '127.0.0.3', 17651);
    const Y = await startNode(y.dir, '127.0.0.4', 17652);
    const I = await startNode(i.dir, '127.0.0.5', 17653);
    await befriend(R, X);
    await befriend(X, Y);
    await befriend(Y, I);
    const inv = await meshJson<{ code: string }>(i.dir, 'invite', '--no-address');
    const add = await meshJson<{ uuid: string; authPhrase: string }>(r.dir, 'add', inv.code);
    assert.equal(add.uuid, I.uuid);
    const reqs = await meshJson<{ uuid: string; authPhrase: string }[]>(i.dir, 'requests');
    assert.equal(reqs.length, 1);
    assert.equal(reqs[0].uuid, R.uuid);
    assert.equal(reqs[0].authPhrase, add.authPhrase);
    await meshJson(i.dir, 'accept', R.uuid);
    const m = await meshJson<{ id: string }>(r.dir, 'send', I.uuid, 'hello through friends');
    await waitFor(
      async () => (await meshJson<Msg[]>(i.dir, 'inbox')).some((x2) => x2.id === m.id),
      30_000,
      'first message',
    );
    for (const n of [R, X, Y, I]) await n.stop();
  });
});
