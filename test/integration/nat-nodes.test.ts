/**
 * Nodes behind a NAT on the memory transport (docs/PROTOCOL.md §16): real MeshNodes and stores,
 * `MemoryNetwork.setDialable(address, false)` for a node nobody can dial. Covers item 4 (a private
 * node's channels carry everything, pending contacts included, no "inactive" while a channel is open),
 * item 5 (relay through a mutual contact, picked automatically, switched when it goes away) and item 7
 * (an invite from a private node names an introducer).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { deriveUuid, generateKeyPairs } from '../../src/crypto/index.ts';
import type { InboxRecord, SelfRecord } from '../../src/protocol/types.ts';
import { MeshNode } from '../../src/runtime/mesh-node.ts';
import { MemoryStore } from '../../src/store/memory-store.ts';
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory/index.ts';

const rand = (n: number) => new Uint8Array(randomBytes(n));
const running: MeshNode[] = [];
after(async () => {
  for (const n of running) await n.stop().catch(() => {});
});

async function until<T>(what: string, f: () => T | null | undefined | false, ms = 8000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = f();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

/** A node on `net` at `address`; `nat` = nobody can dial it. Short request timeout: an undialable dial fails fast anyway. */
async function node(net: MemoryNetwork, name: string, address: string, nat = false): Promise<MeshNode> {
  const k = generateKeyPairs(rand);
  const self = { uuid: deriveUuid(k.signPub, k.boxPub), name, ...k, createdAt: Date.now() } as SelfRecord;
  const store = new MemoryStore();
  store.apply([{ op: 'self:put', self }]);
  const transport = net.transport(address, {
    signPriv: k.signPriv,
    signPub: k.signPub,
    boxPub: k.boxPub,
    channel: { redialMinMs: 50, redialMaxMs: 200 },
  });
  if (nat) net.setDialable(address, false);
  const n = new MeshNode({ store, transport, core: { requestTimeoutMs: 1000 } });
  await n.start();
  running.push(n);
  return n;
}

const view = (a: MeshNode, b: MeshNode) => a.contacts().find((c) => c.uuid === b.uuid);

/** `inviter` invites, `requester` adds, `inviter` accepts; both see each other active. */
async function befriend(inviter: MeshNode, requester: MeshNode): Promise<void> {
  const { code } = await inviter.invite();
  await requester.add(code);
  await until('the request', () => inviter.requests().some((r) => r.uuid === requester.uuid));
  await inviter.accept(requester.uuid);
  await until(
    'both active',
    () => view(inviter, requester)?.status === 'active' && view(requester, inviter)?.status === 'active',
  );
}

/** Sends and waits until the text is in the receiver's inbox exactly once. */
async function deliver(a: MeshNode, b: MeshNode, text: string): Promise<void> {
  const got: string[] = [];
  const on = (m: InboxRecord) => m.text === text && got.push(m.id);
  b.on('message', on);
  await a.send(b.uuid, text);
  await until(`"${text}" delivered`, () => got.length > 0);
  await new Promise((r) => setTimeout(r, 50));
  b.off('message', on);
  assert.equal(got.length, 1, `"${text}" delivered exactly once`);
  assert.equal(b.inbox().filter((m) => m.text === text).length, 1);
}

describe('nodes behind a NAT (memory transport)', () => {
  it('home–public: the private node adds the public one, the accept comes back over its channel, messages both ways', async () => {
    const net = new MemoryNetwork();
    const carol = await node(net, 'carol', '198.51.100.1:7575');
    const alice = await node(net, 'alice', '10.2.0.1:7575', true);
    await befriend(carol, alice);
    const c = view(carol, alice);
    assert.equal(c?.channel, true);
    assert.equal(c?.path, 'direct');
    await deliver(alice, carol, 'hi carol');
    await deliver(carol, alice, 'hi alice');
    // Carol cannot dial alice, but alice's channel is open: alice never turns inactive on carol's side.
    assert.equal(view(carol, alice)?.status, 'active');
    // alice goes away: carol does not keep dialling the address no dial of hers ever reached (§16.1).
    const t = carol.transport as MemoryTransport;
    const dial = t.dialLink.bind(t);
    let dials = 0;
    t.dialLink = (address, signPub) => {
      if (address === '10.2.0.1:7575') dials++;
      return dial(address, signPub);
    };
    const aliceUuid = alice.uuid;
    await alice.stop();
    await until(
      'carol sees the channel close',
      () => carol.contacts().find((c) => c.uuid === aliceUuid)?.channel === false,
    );
    await new Promise((r) => setTimeout(r, 1000)); // redial backoff here is 50–200 ms: ≥ 5 dials if it kept going
    assert.ok(dials <= 1, `carol dialled alice's undialable address ${dials} times`);
  });

  it('home–home with a mutual contact: relayed through it, picked automatically, switched when it stops', async () => {
    const net = new MemoryNetwork();
    const carol = await node(net, 'carol', '198.51.100.1:7575');
    const dave = await node(net, 'dave', '198.51.100.2:7575');
    const alice = await node(net, 'alice', '10.2.0.1:7575', true);
    const bob = await node(net, 'bob', '10.3.0.1:7575', true);
    await befriend(carol, alice);
    await befriend(carol, bob);
    await befriend(alice, bob);
    const ab = await until(
      'alice reaches bob through carol',
      () => view(alice, bob)?.path === 'relay' && view(alice, bob),
    );
    assert.equal(ab?.path, 'relay');
    assert.equal(ab?.via, carol.uuid);
    assert.equal(ab?.channel, false);
    await deliver(alice, bob, 'relayed 1');
    await deliver(bob, alice, 'relayed 2');
    assert.equal(view(bob, alice)?.via, carol.uuid);
    // A second mutual contact; then carol goes away: the next messages switch to dave.
    await befriend(dave, alice);
    await befriend(dave, bob);
    await carol.stop();
    await deliver(alice, bob, 'after the switch');
    await deliver(bob, alice, 'and back');
    await until(
      'both switched to dave',
      () => view(alice, bob)?.via === dave.uuid && view(bob, alice)?.via === dave.uuid,
    );
    assert.equal(view(alice, bob)?.via, dave.uuid);
    assert.equal(view(bob, alice)?.via, dave.uuid);
    // The relay counted nothing stored: dave has no inbox entries of theirs.
    assert.equal(dave.inbox().length, 0);
  });

  it('a relay refuses a target that is not its contact (UNREACHABLE) and the sender stays queued', async () => {
    const net = new MemoryNetwork();
    const carol = await node(net, 'carol', '198.51.100.1:7575');
    const alice = await node(net, 'alice', '10.2.0.1:7575', true);
    const bob = await node(net, 'bob', '10.3.0.1:7575', true);
    const dave = await node(net, 'dave', '198.51.100.2:7575');
    await befriend(carol, alice);
    await befriend(dave, alice);
    await befriend(dave, bob);
    await befriend(alice, bob); // through dave, their one mutual contact
    await dave.stop();
    await alice.send(bob.uuid, 'nobody carries this');
    await until('carol refused', () => (carol.drops.UNREACHABLE ?? 0) > 0);
    await until('alice has no path to bob', () => view(alice, bob)?.path === 'none');
    assert.equal(view(alice, bob)?.status, 'inactive');
    assert.equal(bob.inbox().length, 0);
  });

  it('an invite from a private node: the introducer carries the request, and relays for the pair while the invite lives', async () => {
    const net = new MemoryNetwork();
    const carol = await node(net, 'carol', '198.51.100.1:7575');
    const alice = await node(net, 'alice', '10.2.0.1:7575', true);
    const bob = await node(net, 'bob', '10.3.0.1:7575', true);
    await befriend(carol, alice);
    // bob knows nobody; alice's invite names carol (her address is private) as introducer.
    const { code } = await alice.invite();
    await bob.add(code);
    await until('alice gets the request', () => alice.requests().some((r) => r.uuid === bob.uuid));
    await alice.accept(bob.uuid);
    await until('both active', () => view(alice, bob)?.status === 'active' && view(bob, alice)?.status === 'active');
    await deliver(alice, bob, 'hello through the introducer');
    await deliver(bob, alice, 'hello back');
    await until('bob relays through carol', () => view(bob, alice)?.via === carol.uuid);
    assert.equal(view(bob, alice)?.path, 'relay');
    // carol relayed for a stranger only because she introduced it: she has no contact bob.
    assert.equal(view(carol, bob), undefined);
  });
});
