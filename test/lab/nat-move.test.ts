/**
 * Issue 10 (docs/PROTOCOL.md §15.5) in the NAT lab, routers with miniupnpd: a running home node
 * walks to the other router (`lab.sh move home1 nat2`). It notices the new interface address, maps
 * its port on the new router, announces, and its public contact reaches it again; the time from the
 * move until carol's message is in alice's inbox is measured (daemon clocks, not CLI polling) and
 * printed. Alice now shares nat2's public IP with bob, whom she befriended while on nat1: both must
 * switch to each other's LAN address (the lab, like many routers, cannot hairpin) and talk both ways.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  befriend,
  deliver,
  LAB_ADDR,
  Lab,
  type LabContact,
  type LabNode,
  labUnavailable,
  lanOf,
  waitFor,
} from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_move_${process.pid}`);

interface Status {
  reachability: string;
  advertised: string | null;
  dialable: boolean;
  portMapping: { external: string } | null;
}
const status = (n: LabNode) => n.json<Status>('status');
const holds = async (a: LabNode, b: LabNode) =>
  (await a.json<LabContact[]>('contacts')).find((c) => c.uuid === b.uuid) ?? null;

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ upnp: true });
});
after(() => lab.down());

test('a running home node moves to another router: remapped, announced, reached again; same public IP → LAN', async () => {
  const carol = await lab.node('pub1', 'carol');
  const alice = await lab.node('home1', 'alice');
  const bob = await lab.node('home2', 'bob');
  await Promise.all([carol.start(), alice.start(), bob.start()]);
  for (const n of [alice, bob])
    await waitFor(`${n.name} to be mapped`, async () => (await status(n)).portMapping, 10_000);
  await Promise.all([befriend(carol, alice), befriend(carol, bob)]);
  await befriend(alice, bob);
  assert.equal((await holds(bob, alice))?.address, `${LAB_ADDR.nat1}:7575`);
  assert.equal((await holds(alice, bob))?.address, `${LAB_ADDR.nat2}:7575`);

  // Alice walks to nat2's LAN while her daemon runs; carol writes to her at once.
  const t0 = Date.now();
  await alice.move('nat2');
  await carol.json('send', alice.uuid, 'where are you?');
  const moved = await waitFor(
    'alice to map her port on nat2 and advertise it',
    async () => {
      const s = await status(alice);
      return s.portMapping?.external.startsWith(`${LAB_ADDR.nat2}:`) && s.advertised === s.portMapping.external
        ? s
        : null;
    },
    15_000,
  );
  const tNoticed = Date.now() - t0;
  assert.equal(moved.dialable, true);
  const got = await waitFor(
    "carol's message in alice's inbox",
    async () => {
      const inbox = await alice.json<{ from: string; text: string; receivedAt: number }[]>('inbox');
      const m = inbox.filter((x) => x.from === carol.uuid && x.text === 'where are you?');
      if (m.length > 1) throw new Error(`arrived ${m.length} times`);
      return m[0];
    },
    20_000,
  );
  const tFlow = got.receivedAt - t0;
  await waitFor(
    'carol to hold alice at her nat2 mapping',
    async () => (await holds(carol, alice))?.address === moved.advertised,
    10_000,
  );
  await deliver(alice, carol, 'on nat2 now');

  // Same public IP as bob now: each holds the other at its LAN address, and messages go both ways once.
  const lan = await waitFor(
    'alice and bob to hold each other at their LAN addresses',
    async () => {
      const [ab, ba] = [await holds(alice, bob), await holds(bob, alice)];
      return ab?.address === `${LAB_ADDR.home2}:7575` && ba?.address === `${lanOf('home1', 'nat2')}:7575`
        ? { ab, ba }
        : null;
    },
    15_000,
  ).catch(async (e) => {
    throw new Error(
      `${e}: alice holds bob ${JSON.stringify(await holds(alice, bob))}, bob holds alice ${JSON.stringify(await holds(bob, alice))}`,
    );
  });
  const tLan = Date.now() - t0;
  const t1 = await deliver(alice, bob, 'neighbours now');
  const t2 = await deliver(bob, alice, 'hello neighbour');
  const [ab, ba] = [await holds(alice, bob), await holds(bob, alice)];
  assert.equal(ab?.address, lan.ab.address, 'alice still holds bob at his LAN address');
  assert.equal(ba?.address, lan.ba.address, 'bob still holds alice at her LAN address');
  console.log(
    `# move home1 → nat2: mapped and advertised ${tNoticed} ms after the move; carol's message (sent at the move) received ${tFlow} ms after it; LAN addresses held ${tLan} ms after; alice → bob ${t1} ms, bob → alice ${t2} ms`,
  );
});
