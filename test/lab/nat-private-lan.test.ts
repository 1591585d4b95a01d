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
});
