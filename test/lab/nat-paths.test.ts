/**
 * Issue 10 items 4, 5, 7 with real `bin/mesh` daemons in the NAT lab (preserve mapping, drop
 * filtering, no port mapping): alice behind nat1, bob behind nat2, carol and dave on public hosts.
 * - home–public: alice adds carol; the accept comes back over alice's channel; messages both ways.
 * - home–home with carol as mutual contact: alice invites bob (the invite names carol as introducer),
 *   the accept and the messages go through carol (`path: "relay"`, `via: carol`).
 * - a node restarted behind NAT gets what was queued for it.
 * - the relay stops: the ends switch to dave, the other mutual contact.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, Lab, type LabContact, type LabNode, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_paths_${process.pid}`);

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ map: 'preserve', filter: 'drop' });
});
after(() => lab.down());

const contact = async (a: LabNode, b: LabNode) =>
  (await a.json<LabContact[]>('contacts')).find((c) => c.uuid === b.uuid);

test('home–public, home–home through a mutual contact, restart behind NAT, relay switch', async () => {
  const carol = await lab.node('pub1', 'carol');
  const dave = await lab.node('pub2', 'dave');
  const alice = await lab.node('home1', 'alice');
  const bob = await lab.node('home2', 'bob');
  // The homes do not punch here (--punch-port 0): this test is about the relay; the direct upgrade
  // that follows it under preserve/drop is tested in nat-punch-nodes.test.ts.
  for (const n of [carol, dave]) await n.start();
  for (const n of [alice, bob]) await n.start('--punch-port', '0');

  // Item 4, the reproduction of BRIEF-NAT.md: it used to end with alice's carol pending for ever.
  await befriend(carol, alice);
  await deliver(alice, carol, 'alice to carol');
  await deliver(carol, alice, 'carol to alice');
  const ca = await contact(carol, alice);
  assert.equal(ca?.status, 'active');
  assert.equal(ca?.channel, true);
  assert.equal(ca?.path, 'direct');

  // Item 5 (and 7: alice's invite names carol as introducer): home–home through carol.
  await befriend(carol, bob);
  await befriend(alice, bob, 30_000);
  await waitFor('alice to reach bob through carol', async () => (await contact(alice, bob))?.path === 'relay', 20_000);
  await deliver(alice, bob, 'alice to bob');
  await deliver(bob, alice, 'bob to alice');
  const ab = await contact(alice, bob);
  assert.equal(ab?.via, carol.uuid);
  assert.equal(ab?.channel, false);

  // A node restarted behind NAT gets its queued messages (its contacts cannot dial it: it dials them).
  await alice.stop();
  await carol.json('send', alice.uuid, 'queued by carol');
  await bob.json('send', alice.uuid, 'queued by bob');
  await alice.restart();
  for (const [from, text] of [
    [carol, 'queued by carol'],
    [bob, 'queued by bob'],
  ] as const) {
    await waitFor(
      `"${text}" once in alice's inbox`,
      async () => {
        const inbox = await alice.json<{ from: string; text: string }[]>('inbox');
        const n = inbox.filter((m) => m.text === text && m.from === from.uuid).length;
        if (n > 1) throw new Error(`"${text}" arrived ${n} times`);
        return n === 1;
      },
      30_000,
    );
  }

  // The relay goes away: the ends switch to dave, their other mutual contact.
  await befriend(dave, alice);
  await befriend(dave, bob);
  await carol.stop();
  await deliver(alice, bob, 'after carol stopped', 30_000);
  await deliver(bob, alice, 'and back', 30_000);
  await waitFor('alice to use dave', async () => (await contact(alice, bob))?.via === dave.uuid, 20_000);
});
