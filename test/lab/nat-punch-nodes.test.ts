/**
 * Issue 10 item 6 with real `bin/mesh` daemons in the NAT lab: alice behind nat1 and bob behind nat2
 * reach each other through carol (pub1), their mutual contact (§16); over that relay they exchange
 * their punch-port endpoints and open a TCP connection to each other at the same moment (§17).
 * - preserve/drop routers: the pair ends `direct` (`mesh contacts --json`: path "direct", channel
 *   true, via null) and messages go both ways exactly once;
 * - a random-mapping (symmetric) router: the punch cannot work, the pair stays on the relay and
 *   messages still flow.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, Lab, type LabContact, type LabNode, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_punchn_${process.pid}`);

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ map: 'preserve', filter: 'drop' });
});
after(() => lab.down());

const contact = async (a: LabNode, b: LabNode) =>
  (await a.json<LabContact[]>('contacts')).find((c) => c.uuid === b.uuid);

/** carol on pub1, alice and bob in the homes, all friends (alice–bob through carol's introduction). */
async function trio(tag: string): Promise<[LabNode, LabNode, LabNode]> {
  const carol = await lab.node('pub1', `carol${tag}`);
  const alice = await lab.node('home1', `alice${tag}`);
  const bob = await lab.node('home2', `bob${tag}`);
  for (const n of [carol, alice, bob]) await n.start('--no-port-mapping');
  await befriend(carol, alice);
  await befriend(carol, bob);
  await befriend(alice, bob, 30_000);
  return [carol, alice, bob];
}

test('preserve/drop: home–home through carol ends direct after the upgrade', async () => {
  const [carol, alice, bob] = await trio('1');
  const t0 = Date.now();
  await deliver(alice, bob, 'alice to bob', 30_000);
  for (const [x, y] of [
    [alice, bob],
    [bob, alice],
  ] as const) {
    const c = await waitFor(
      `${x.name} to reach ${y.name} directly`,
      async () => {
        const c = await contact(x, y);
        return c?.path === 'direct' && c.channel === true ? c : null;
      },
      30_000,
    );
    assert.equal(c.via, null);
  }
  const upgradeMs = Date.now() - t0;
  await deliver(alice, bob, 'direct alice to bob');
  await deliver(bob, alice, 'direct bob to alice');
  // The relay still reaches both (its own channels), it just carries nothing for them now.
  assert.equal((await contact(carol, alice))?.path, 'direct');
  console.log(`# upgrade to direct within ${upgradeMs} ms of the first relayed message`);
  for (const n of [carol, alice, bob]) await n.stop();
});

test('random mapping behind nat2: the pair stays relayed, messages flow', async () => {
  await lab.sh('nat', 'nat2', 'random', 'drop');
  const [carol, alice, bob] = await trio('2');
  await deliver(alice, bob, 'alice to bob (2)', 30_000);
  await waitFor('alice to use carol', async () => (await contact(alice, bob))?.path === 'relay', 20_000);
  // Longer than one punch attempt (PUNCH_TIMEOUT_MS): it failed, the relay carries on.
  await new Promise((r) => setTimeout(r, 12_000));
  const ab = await contact(alice, bob);
  assert.equal(ab?.path, 'relay');
  assert.equal(ab?.via, carol.uuid);
  await deliver(bob, alice, 'bob to alice (2)');
  await deliver(alice, bob, 'alice to bob again (2)');
  for (const n of [carol, alice, bob]) await n.stop();
});
