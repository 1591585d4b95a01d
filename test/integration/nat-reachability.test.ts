/**
 * Observed address and reachability (docs/PROTOCOL.md §15) with real MeshNodes on the memory
 * transport's NAT model: a node behind a NAT learns its public host from its contacts' answers,
 * is dialled back (or not) on a fresh connection, and advertises accordingly.
 */
import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import type { MeshNode } from '../../src/runtime/mesh-node.ts';
import type { MemoryTransport } from '../../src/transport/memory/index.ts';
import { befriend, MemoryMesh } from '../helpers/memory-mesh.ts';

const mesh = new MemoryMesh();
after(() => mesh.stop());

async function until<T>(what: string, f: () => T | null | undefined | false, ms = 5000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
const addr = (n: MeshNode) => (n.transport as MemoryTransport).address;

test('behind a NAT: observed host, private without a mapping, mapped with one, public without a NAT', async () => {
  const carol = await mesh.node('carol');
  const alice = await mesh.node('alice');
  await befriend(carol, alice);
  // Both public: each is dialled back at its own address.
  await until('carol public', () => carol.status().reachability === 'public');
  await until('alice public', () => alice.status().reachability === 'public');
  assert.equal(alice.status().advertised, addr(alice));

  // alice goes behind a NAT (public host 203.0.113.1, nothing mapped) and speaks to carol.
  mesh.net.setNat(addr(alice), '203.0.113.1');
  await alice.send(carol.uuid, 'from behind the NAT');
  const s = await until('alice private', () => (alice.status().reachability === 'private' ? alice.status() : null));
  assert.equal(s.advertised, '203.0.113.1:7575');
  assert.equal(s.dialable, false);
  assert.deepEqual(alice.addresses().observed.includes('203.0.113.1:7575'), true);

  // The router maps 7575: the runtime reports it; the dial-back on the mapped port succeeds.
  mesh.net.setNat(addr(alice), '203.0.113.1', 7575);
  await alice.command({ kind: 'mapping', external: '203.0.113.1:7575' });
  const m = await until('alice mapped', () => (alice.status().reachability === 'mapped' ? alice.status() : null));
  assert.equal(m.advertised, '203.0.113.1:7575');
  assert.equal(m.dialable, true);
  // carol learns the advertised address from alice's announce and reaches her directly through it.
  await until(
    'carol to hold alice at the mapped address',
    () => carol.contacts().find((c) => c.uuid === alice.uuid)?.address === '203.0.113.1:7575',
  );
});

test('an accepted requester announces back: the acceptor learns its advertised and LAN address too (§15.7)', async () => {
  const dave = await mesh.node('dave');
  const erin = await mesh.node('erin');
  // dave invites, erin adds, dave accepts: dave's announce reaches erin; erin answers with hers.
  await befriend(dave, erin);
  await until('erin to know what dave announced', () => erin.core.state.nat.peers.get(dave.uuid));
  const heard = await until('dave to know what erin announced', () => dave.core.state.nat.peers.get(erin.uuid));
  assert.equal(heard.addr, addr(erin));
  assert.equal(heard.dialable, true);
});
