/**
 * End-to-end: real `mesh` processes on 127.0.0.x:7575, driven through bin/mesh as a user types it.
 * One process-level run of each user flow: help, init / not running (exit 3), invite → add →
 * accept → chat, restart at a new address, queued delivery across restarts, relocation through a
 * mutual contact. The UUID-only invite through other nodes runs in domain-peer.test.ts (through
 * the public peer); its variants through contacts are integration scenario e.
 */
import assert from 'node:assert/strict';
import { after, describe, test } from 'node:test';
import { befriend, cleanup, initNode, mesh, meshJson, type RunningNode, startNode, waitFor } from './cli-helpers.ts';

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

  // One cast for the user flows below: each test continues from the state the previous one left
  // (the integration scenarios a–e cover the protocol's variants in virtual time; here each flow
  // runs once through real processes, as a user types it).
  let alice: { dir: string; uuid: string };
  let bob: { dir: string; uuid: string };
  let A: RunningNode;
  let B: RunningNode;

  test('invite → add → same auth phrase → accept → chat both ways; contacts and status', async () => {
    alice = await initNode('alice');
    bob = await initNode('bob');
    A = await startNode(alice.dir, '127.0.0.2', 17610);
    B = await startNode(bob.dir, '127.0.0.3', 17611);
    const phrases = await befriend(A, B);
    assert.equal(phrases.added, phrases.requested);
    assert.match(phrases.added, /^[a-z]+( [a-z]+){5}$/);
    const sent = await meshJson<{ id: string }>(bob.dir, 'send', 'alice', 'hello', 'alice');
    const back = await meshJson<{ id: string }>(alice.dir, 'send', B.uuid, 'hi bob');
    const inA = await waitFor(
      async () => (await meshJson<Msg[]>(alice.dir, 'inbox')).find((m) => m.id === sent.id),
      20_000,
      'alice to receive',
    );
    assert.equal(inA.text, 'hello alice');
    assert.equal(inA.from, B.uuid);
    const inB = await waitFor(
      async () => (await meshJson<Msg[]>(bob.dir, 'inbox')).find((m) => m.id === back.id),
      20_000,
      'bob to receive',
    );
    assert.equal(inB.text, 'hi bob');
    const contacts = await meshJson<Contact[]>(alice.dir, 'contacts');
    assert.equal(contacts.length, 1);
    assert.equal(contacts[0].address, '127.0.0.3:7575');
    assert.equal(contacts[0].online, true);
    const st = await meshJson<{
      uuid: string;
      contacts: { total: number; online: number };
      outbox: number;
      listen: string[];
    }>(alice.dir, 'status');
    assert.equal(st.uuid, A.uuid);
    assert.deepEqual(st.contacts, { total: 1, online: 1 });
    assert.equal(st.outbox, 0);
    assert.deepEqual(st.listen, ['127.0.0.2:7575']);
  });

  test('a node restarts on another address and its contacts learn it', async () => {
    await B.stop();
    B = await startNode(bob.dir, '127.0.0.4', 17611);
    const c = await waitFor(
      async () => (await meshJson<Contact[]>(alice.dir, 'contacts')).find((x) => x.address === '127.0.0.4:7575'),
      20_000,
      'new address',
    );
    assert.equal(c.uuid, B.uuid);
  });

  test('a message to an offline contact is delivered exactly once after it returns, across a sender restart', async () => {
    await B.stop();
    const m = await meshJson<{ id: string }>(alice.dir, 'send', 'bob', 'while you were away');
    const st = await waitFor(
      async () => {
        const s = await meshJson<{ outbox: number }>(alice.dir, 'status');
        return s.outbox === 1 ? s : null;
      },
      20_000,
      'the message to wait in the outbox',
    );
    assert.equal(st.outbox, 1);
    await A.stop();
    A = await startNode(alice.dir, '127.0.0.2', 17610);
    B = await startNode(bob.dir, '127.0.0.4', 17611);
    await waitFor(
      async () => (await meshJson<Msg[]>(bob.dir, 'inbox')).some((x) => x.id === m.id),
      60_000,
      'delivery after return',
    );
    // Give retries a moment, then check exactly one copy and an empty outbox.
    await new Promise((r) => setTimeout(r, 2000));
    const inbox = await meshJson<Msg[]>(bob.dir, 'inbox');
    assert.equal(inbox.filter((x) => x.id === m.id).length, 1);
    assert.equal(inbox.filter((x) => x.text === 'while you were away').length, 1);
    await waitFor(
      async () => (await meshJson<{ outbox: number }>(alice.dir, 'status')).outbox === 0,
      20_000,
      'outbox to drain',
    );
  });

  test("the seed's main scenario: A's address for C is stale; A finds C through mutual contact B, then talks directly", async () => {
    const cleo = await initNode('cleo');
    let C = await startNode(cleo.dir, '127.0.0.5', 17632);
    await befriend(B, C);
    await befriend(A, C);
    // A goes offline; C moves to a new address while A cannot see it.
    await A.stop();
    await C.stop();
    C = await startNode(cleo.dir, '127.0.0.3', 17632);
    await waitFor(
      async () =>
        (await meshJson<Contact[]>(bob.dir, 'contacts')).find(
          (x) => x.uuid === C.uuid && x.address === '127.0.0.3:7575',
        ),
      20_000,
      'B to learn C',
    );
    // A comes back believing C is at 127.0.0.5 (its store was last written while C was there).
    A = await startNode(alice.dir, '127.0.0.2', 17610);
    const msg = await meshJson<{ id: string }>(alice.dir, 'send', 'cleo', 'found you through bob');
    const got = await waitFor(
      async () => (await meshJson<Msg[]>(cleo.dir, 'inbox')).find((m) => m.id === msg.id),
      30_000,
      'C to receive',
    );
    assert.equal(got.from, A.uuid);
    // A learns C's new address: from B's search answer, or from C's own announce over the channel C
    // redials to A once A is back (§16.1) — whichever comes first; it may trail the message itself.
    const cAtA = await waitFor(
      async () =>
        (await meshJson<Contact[]>(alice.dir, 'contacts')).find(
          (x) => x.uuid === C.uuid && x.address === '127.0.0.3:7575',
        ),
      10_000,
      "A to hold C's new address",
    );
    assert.equal(cAtA.address, '127.0.0.3:7575');
    // Now directly: a second message does not need B (B can even be gone).
    await B.stop();
    const msg2 = await meshJson<{ id: string }>(alice.dir, 'send', 'cleo', 'direct now');
    await waitFor(
      async () => (await meshJson<Msg[]>(cleo.dir, 'inbox')).find((m) => m.id === msg2.id),
      20_000,
      'direct delivery',
    );
    await A.stop();
    await C.stop();
  });
});
