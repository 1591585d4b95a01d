/**
 * Issue 10 items 1–3 in the NAT lab (docs/PROTOCOL.md §15): a home node (home1 behind nat1) and a
 * public node (pub1). With the router's port mapping (miniupnpd) the home node maps 7575, learns
 * its public IP from the public contact, is dialled back on the mapped port (`mapped`), advertises
 * nat1:7575 and the public node talks to it directly. A new WAN address (`lab.sh wanip`) is
 * noticed and announced; the time until a message flows again is measured and printed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, LAB_ADDR, Lab, type LabContact, type LabNode, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_map_${process.pid}`);

interface Status {
  reachability: string;
  advertised: string | null;
  dialable: boolean;
  observed: string[];
  portMapping: { protocol: string; external: string } | null;
}

const status = (n: LabNode) => n.json<Status>('status');

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ upnp: true });
});
after(() => lab.down());

test('home behind a mapping router: mapped, advertises nat1:7575, direct both ways; WAN address change', async () => {
  const alice = await lab.node('home1', 'alice');
  const carol = await lab.node('pub1', 'carol');
  await carol.start();
  await alice.start();
  const mapped = await waitFor('alice to map her port', async () => (await status(alice)).portMapping, 10_000);
  assert.equal(mapped.external, `${LAB_ADDR.nat1}:7575`);
  await befriend(carol, alice);
  const s = await waitFor(
    'alice to be dialled back on her mapped port',
    async () => {
      const st = await status(alice);
      return st.reachability === 'mapped' ? st : null;
    },
    15_000,
  );
  assert.equal(s.advertised, `${LAB_ADDR.nat1}:7575`);
  assert.equal(s.dialable, true);
  assert.ok(s.observed.includes(`${LAB_ADDR.nat1}:7575`), `observed ${s.observed}`);
  assert.equal((await status(carol)).reachability, 'public');
  await deliver(alice, carol, 'hi carol');
  await deliver(carol, alice, 'hi alice');
  const seen = await carol.json<LabContact[]>('contacts');
  assert.equal(seen.find((c) => c.uuid === alice.uuid)?.address, `${LAB_ADDR.nat1}:7575`);

  // The ISP hands nat1 a new address: alice notices it at the router and announces it.
  const t0 = Date.now();
  await lab.sh('wanip', 'nat1', '198.18.0.31');
  const noticed = await waitFor(
    'alice to advertise the new WAN address',
    async () => (await status(alice)).advertised === '198.18.0.31:7575',
    10_000,
  );
  const tNoticed = Date.now() - t0;
  assert.ok(noticed);
  const tDeliver = await deliver(carol, alice, 'after the new WAN address', 20_000);
  const tFlow = Date.now() - t0;
  await deliver(alice, carol, 'and back');
  // Carol holds alice at the new address: channels through the old one were dropped at the change
  // (an inbound mapped one would stay half alive, alice's requests still reaching carol from nat1's old IP).
  const held = await waitFor(
    'carol to hold alice at the new WAN address',
    async () =>
      (await carol.json<LabContact[]>('contacts')).find(
        (c) => c.uuid === alice.uuid && c.address === '198.18.0.31:7575',
      ),
    10_000,
  );
  console.log(
    `# wanip: noticed after ${tNoticed} ms; carol → alice delivered ${tDeliver} ms after send, ${tFlow} ms after the change; carol holds alice at ${held?.address} (channel ${held?.channel})`,
  );
});
