/**
 * Issue 10 items 1, 2 and 8 in the NAT lab (docs/PROTOCOL.md §15), routers with miniupnpd:
 * a home node (befriended with a mapping, restarted with --no-port-mapping) learns its public IP from its public contact, is not dialled back (`private`,
 * `dialable: false`, advertises nat1's IP); then a second home node moves behind the same router
 * (`lab.sh move home2 nat1`) and the two talk directly on the LAN (no hairpinning in the lab).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, LAB_ADDR, Lab, type LabContact, type LabNode, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_lan_${process.pid}`);

interface Status {
  reachability: string;
  advertised: string | null;
  dialable: boolean;
  portMapping: unknown;
}
const status = (n: LabNode) => n.json<Status>('status');

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ upnp: true });
});
after(() => lab.down());

test('private home node: observed IP advertised, not dialable; two homes behind one router talk on the LAN', async () => {
  const carol = await lab.node('pub1', 'carol');
  const alice = await lab.node('home1', 'alice');
  const bob = await lab.node('home2', 'bob');
  await carol.start();
  // Befriending from a private node needs nat-b's channels to pending contacts (items 4, 7): here
  // alice befriends carol with her mapping, then restarts without it (the mapping goes on stop).
  await alice.start();
  await waitFor('alice to map her port', async () => (await status(alice)).portMapping, 10_000);
  await befriend(carol, alice);
  await alice.stop();
  const mark = alice.log.length;
  await alice.start('--no-port-mapping', '--log-level', 'debug');
  let last: Status | null = null;
  const s = await waitFor(
    'alice to learn she is private',
    async () => {
      const st = await status(alice);
      last = st;
      return st.reachability === 'private' ? st : null;
    },
    20_000,
  ).catch(async (e) => {
    const cs = await carol.json('status');
    const lines = alice.log
      .slice(mark)
      .join('')
      .split('\n')
      .filter((l) => /dropped|failed|nat/.test(l));
    throw new Error(`${e}; last status ${JSON.stringify(last)}; carol ${JSON.stringify(cs)}; log ${lines.join('\n')}`);
  });
  assert.equal(s.advertised, `${LAB_ADDR.nat1}:7575`);
  assert.equal(s.dialable, false);
  assert.equal(s.portMapping, null);

  // bob joins alice's LAN, then they befriend: the invite's LAN hint reaches alice directly.
  await lab.sh('move', 'home2', 'nat1');
  bob.host = 'home2';
  await bob.start('--no-port-mapping');
  const t0 = Date.now();
  await befriend(alice, bob);
  const tAdd = Date.now() - t0;
  const held = (await bob.json<LabContact[]>('contacts')).find((c) => c.uuid === alice.uuid);
  assert.equal(held?.address, `${LAB_ADDR.home1}:7575`);
  const t1 = await deliver(alice, bob, 'hello neighbour');
  const t2 = await deliver(bob, alice, 'hello back');
  const aliceSees = (await alice.json<LabContact[]>('contacts')).find((c) => c.uuid === bob.uuid);
  assert.match(aliceSees?.address ?? '', /^10\.77\.1\.\d+:7575$/);
  console.log(`# LAN: befriended in ${tAdd} ms; messages ${t1} ms and ${t2} ms`);
  await Promise.all([alice.stop(), bob.stop()]); // the next test runs fresh nodes on these hosts
});

test('two fresh homes behind one router, both contacts of a public node: relayed at first, then direct on the LAN', async () => {
  // Runs after the test above: home2 is behind nat1 already; its home nodes are stopped.
  const carol = await lab.node('pub2', 'dave');
  const ann = await lab.node('home1', 'ann');
  const ben = await lab.node('home2', 'ben');
  for (const n of [carol, ann, ben]) await n.start(...(n === carol ? [] : ['--no-port-mapping']));
  await befriend(carol, ann);
  await befriend(carol, ben);
  await befriend(ann, ben);
  await deliver(ben, ann, 'b→a');
  await deliver(ann, ben, 'a→b');
  // Whatever the first path (the invite may have gone through carol, and each may hold the other at
  // nat1's address, which the router cannot hairpin), the announces say both are behind our router:
  // each ends holding the other's LAN address, directly.
  const t0 = Date.now();
  for (const [a, b] of [
    [ann, ben],
    [ben, ann],
  ] as const) {
    const v = await waitFor(
      `${a.name} to reach ${b.name} directly on the LAN`,
      async () => {
        const c = (await a.json<LabContact[]>('contacts')).find((x) => x.uuid === b.uuid);
        return c?.path === 'direct' && c.channel && /^10\.77\.1\.\d+:7575$/.test(c.address ?? '') ? c : null;
      },
      20_000,
    );
    assert.equal(v.via, null);
  }
  await deliver(ann, ben, 'on the LAN');
  console.log(`# same router, fresh nodes: direct on the LAN ${Date.now() - t0} ms after the messages`);
  for (const n of [carol, ann, ben]) await n.stop();
});
