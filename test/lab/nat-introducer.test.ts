/**
 * Issue 10 item 7 with real daemons: alice (behind nat1) has one reachable contact, carol (pub1);
 * bob (behind nat2) knows nobody. alice's invite names carol as introducer: bob's request reaches
 * alice through carol, alice's accept comes back through carol, and messages flow both ways through
 * carol while the invite lives (`path: "relay"`, `via: carol`), though carol and bob are not contacts.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, Lab, type LabContact, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_intro_${process.pid}`);

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ map: 'preserve', filter: 'drop' });
});
after(() => lab.down());

test('two homes with no contact in common add each other through the inviter’s introducer', async () => {
  const carol = await lab.node('pub1', 'carol');
  const alice = await lab.node('home1', 'alice');
  const bob = await lab.node('home2', 'bob');
  for (const n of [carol, alice, bob]) await n.start();
  await befriend(carol, alice);
  await befriend(alice, bob, 30_000);
  await deliver(alice, bob, 'hello bob', 30_000);
  await deliver(bob, alice, 'hello alice', 30_000);
  const viaCarol = async () => (await bob.json<LabContact[]>('contacts')).find((c) => c.uuid === alice.uuid);
  const seen = await waitFor('bob to reach alice through carol', async () => {
    const c = await viaCarol();
    return c?.path === 'relay' && c;
  });
  assert.equal(seen.via, carol.uuid);
  const carols = await carol.json<LabContact[]>('contacts');
  assert.equal(
    carols.some((c) => c.uuid === bob.uuid),
    false,
    'carol relays for the pair she introduced without bob being her contact',
  );
});
