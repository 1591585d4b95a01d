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
const tr = (n: MeshNode) => n.transport as MemoryTransport;
const keyOf = (n: MeshNode) => n.store.getSelf()?.signPub as Uint8Array;

async function setUp(): Promise<{ alice: MeshNode; carol: MeshNode }> {
  mesh = new MemoryMesh();
  const carol = await mesh.node('carol', { punchPort: 7577 });
  const alice = await mesh.node('alice', { punchPort: 7577 });
  await befriend(carol, alice);
  // alice goes behind a NAT; her connections drop (as on a router change) and only hers can come back.
  mesh.net.setNat(tr(alice).address, '203.0.113.1');
  // A channel alice's transport had already redialled from her old address may open and drop first
  // (§15.5 redials at once on a network change): wait for the one from behind the NAT.
  let redialled = '';
  tr(carol).onChannel((e) => {
    if (e.type === 'channel:open' && e.remote.startsWith('203.0.113.1:')) redialled = e.remote;
  });
  mesh.net.setOnline(tr(alice).address, false);
  mesh.net.setOnline(tr(alice).address, true);
  await until('alice redialled carol from behind the NAT', () => redialled);
  assert.equal(redialled, '203.0.113.1:7577', 'alice dialled carol from her punch port');
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
