/**
 * The runtime's punch path (docs/PROTOCOL.md §17) with real MeshNodes on the memory transport's
 * NAT model: alice behind a NAT keeps a channel to carol (she dialled it from her punch port, so
 * carol observed its mapping); on `punch` both exchange candidates and punch at once. A
 * port-preserving router lets the punched channel up (it replaces the dialled one, §13.4); a
 * random-mapping router does not, and the channel alice dialled carries on.
 */
import assert from 'node:assert/strict';
import { afterEach, test } from 'node:test';
import type { MeshNode } from '../../src/runtime/mesh-node.ts';
import type { MemoryTransport } from '../../src/transport/memory/index.ts';
import { befriend, MemoryMesh, nextEvent } from '../helpers/memory-mesh.ts';

let mesh: MemoryMesh;
afterEach(() => mesh.stop());

async function until<T>(what: string, f: () => T | null | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
/** Punching nodes whose channels come back quickly after a drop (the tests drop them on purpose). */
const PUNCHING = { punchPort: 7577, redial: { redialMinMs: 50, redialMaxMs: 500 } };
const tr = (n: MeshNode) => n.transport as MemoryTransport;
const keyOf = (n: MeshNode) => n.store.getSelf()?.signPub as Uint8Array;

async function setUp(): Promise<{ alice: MeshNode; carol: MeshNode }> {
  mesh = new MemoryMesh();
  const carol = await mesh.node('carol', PUNCHING);
  const alice = await mesh.node('alice', PUNCHING);
  await befriend(carol, alice);
  // The befriending opens a channel from alice's own address: wait until both ends hold it, so no dial
  // is still under way when the NAT comes (a late one would arrive from her own address and stay).
  await until('the first channel', () => tr(alice).channelTo(keyOf(carol)) && tr(carol).channelTo(keyOf(alice)));
  // alice goes behind a NAT; her connections drop (as on a router change) and only hers can come back.
  const seen: string[] = [];
  tr(carol).onChannel((e) => e.type === 'channel:open' && seen.push(e.remote));
  mesh.net.setNat(tr(alice).address, '203.0.113.1');
  mesh.net.setOnline(tr(alice).address, false);
  mesh.net.setOnline(tr(alice).address, true);
  // Wait for the channel from her router, and for her end of it (until then her send would go by POST).
  await until('alice dialled carol again', () => seen.some((r) => r.startsWith('203.0.113.1:')), 10_000);
  assert.deepEqual(
    seen.filter((r) => r.startsWith('203.0.113.1:')),
    ['203.0.113.1:7577'],
    'from her punch port',
  );
  await until('alice holds the channel', () => tr(alice).channelTo(keyOf(carol)));
  await alice.send(carol.uuid, 'hello from behind the NAT'); // carol's answer tells alice how she is seen
  await until('alice knows her punch port mapping', () => alice.core.state.punchObserved === '203.0.113.1:7577');
  return { alice, carol };
}

test('port-preserving router: both ends punch, the punched channel is the pair’s channel', async () => {
  const { alice, carol } = await setUp();
  const seen: string[] = [];
  tr(carol).onChannel((e) => e.type === 'channel:open' && seen.push(e.remote));
  const okA = nextEvent<{ ok: boolean }>(alice, 'contact:punch');
  const okC = nextEvent<{ ok: boolean }>(carol, 'contact:punch');
  const r = await alice.command<{ attempt: string | null }>({ kind: 'punch', uuid: carol.uuid });
  assert.ok(r.attempt, JSON.stringify(r));
  assert.deepEqual([(await okA).ok, (await okC).ok], [true, true]);
  // carol saw the punched connection come from alice's punch port on her router.
  assert.deepEqual(seen, ['203.0.113.1:7577']);
  await alice.send(carol.uuid, 'over the punched channel');
  await until('message at carol', () => carol.store.listInbox().some((m) => m.text === 'over the punched channel'));
});

test('random-mapping router: the punch fails at both ends, the dialled channel carries on', async () => {
  const { alice, carol } = await setUp();
  mesh.net.setPunchMapping(tr(alice).address, 'random');
  const failA = nextEvent<{ ok: boolean }>(alice, 'contact:punch', () => true, 15_000);
  const failC = nextEvent<{ ok: boolean }>(carol, 'contact:punch', () => true, 15_000);
  await alice.command({ kind: 'punch', uuid: carol.uuid });
  assert.deepEqual([(await failA).ok, (await failC).ok], [false, false]);
  assert.ok(tr(alice).channelTo(keyOf(carol)), 'the channel alice dialled is still open');
  await alice.send(carol.uuid, 'still through');
  await until('message at carol', () => carol.store.listInbox().some((m) => m.text === 'still through'));
});

/** carol public; alice and bob behind routers, each with a channel to carol and knowing how it is seen. */
async function twoHomes(
  bobMapping: 'preserve' | 'random' = 'preserve',
): Promise<Record<'alice' | 'bob' | 'carol', MeshNode>> {
  mesh = new MemoryMesh();
  const carol = await mesh.node('carol', PUNCHING);
  const alice = await mesh.node('alice', PUNCHING);
  const bob = await mesh.node('bob', PUNCHING);
  // Behind their routers from the start: only their own dials (from the punch port) reach carol.
  mesh.net.setNat(tr(alice).address, '203.0.113.1');
  mesh.net.setNat(tr(bob).address, '203.0.113.2');
  if (bobMapping === 'random') mesh.net.setPunchMapping(tr(bob).address, 'random');
  await befriend(carol, alice);
  await befriend(carol, bob);
  for (const [n, host] of [
    [alice, '203.0.113.1'],
    [bob, '203.0.113.2'],
  ] as const) {
    await until(`${host}'s channel`, () => tr(n).channelTo(keyOf(carol)));
    await n.send(carol.uuid, `hello from ${host}`);
    await until(`${host} knows how it is seen`, () => n.core.state.punchObserved?.startsWith(`${host}:`));
  }
  return { alice, bob, carol };
}

test('two homes relayed through a mutual contact upgrade to direct on their own (§17.6)', async () => {
  const { alice, bob } = await twoHomes();
  for (const [n, host] of [
    [alice, '203.0.113.1'],
    [bob, '203.0.113.2'],
  ] as const)
    assert.equal(n.core.state.punchObserved, `${host}:7577`, 'a port-preserving router keeps the punch port');
  await befriend(alice, bob);
  const view = (a: MeshNode, b: MeshNode) => a.contacts().find((c) => c.uuid === b.uuid);
  // No `punch` command: the relayed message is what starts the upgrade.
  await alice.send(bob.uuid, 'through carol');
  await until('message at bob', () => bob.store.listInbox().some((m) => m.text === 'through carol'));
  for (const [x, y] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const v = await until(`${x.store.getSelf()?.name} reaches the other directly`, () => {
      const v = view(x, y);
      return v?.path === 'direct' && v.channel && v;
    });
    assert.equal(v.via, null);
  }
  await alice.send(bob.uuid, 'direct a→b');
  await bob.send(alice.uuid, 'direct b→a');
  await until(
    'both direct messages',
    () =>
      bob.store.listInbox().some((m) => m.text === 'direct a→b') &&
      alice.store.listInbox().some((m) => m.text === 'direct b→a'),
  );
  await new Promise((r) => setTimeout(r, 100));
  assert.equal(bob.store.listInbox().filter((m) => m.text === 'direct a→b').length, 1);
  assert.equal(alice.store.listInbox().filter((m) => m.text === 'direct b→a').length, 1);
  assert.ok(tr(alice).channelTo(keyOf(bob)), 'alice holds the punched channel to bob');
});

test('random mapping: the automatic punch fails once, backs off, and the relay carries on', async () => {
  const { alice, bob, carol } = await twoHomes('random');
  const punches: boolean[] = [];
  alice.on('contact:punch', (e: { ok: boolean }) => punches.push(e.ok));
  bob.on('contact:punch', (e: { ok: boolean }) => punches.push(e.ok));
  await befriend(alice, bob);
  await alice.send(bob.uuid, 'relayed 1');
  await until('relayed 1 at bob', () => bob.store.listInbox().some((m) => m.text === 'relayed 1'));
  // Each end gives up at its own deadline: wait for both.
  await until('the punch failed at both ends', () => punches.length >= 2, 20_000);
  // More relayed traffic both ways: no new attempt while the backoff runs.
  for (let i = 2; i < 5; i++) {
    await alice.send(bob.uuid, `relayed ${i}`);
    await bob.send(alice.uuid, `back ${i}`);
  }
  await until('all relayed', () => alice.store.listInbox().filter((m) => m.text.startsWith('back ')).length === 3);
  await until('bob has all', () => bob.store.listInbox().filter((m) => m.text.startsWith('relayed ')).length === 4);
  // One attempt (whoever started it), failed at both ends; no retry while the backoff runs.
  assert.deepEqual(punches, [false, false], 'one failed attempt, no retry loop');
  const v = alice.contacts().find((c) => c.uuid === bob.uuid);
  assert.equal(v?.path, 'relay');
  assert.equal(v?.via, carol.uuid);
});
