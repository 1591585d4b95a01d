/**
 * Issue 10 items 1–3 in the NAT lab under the harder NAT kinds (docs/PROTOCOL.md §15): nat1 maps
 * every flow to a random port (symmetric NAT), nat2 answers unsolicited packets with RST/ICMP
 * (`reject`). With the router's port mapping both homes are `mapped` and advertise their router's
 * :7575; without it both are `private`: they advertise their router's IP (the host contacts agree
 * on, whatever the port) as not dialable. Then nat1 gets a new WAN address (`lab.sh wanip`) while
 * private alice keeps a channel to carol: the time until carol's message (sent at the change)
 * reaches alice, and until alice advertises the new IP, is measured (daemon clocks) and printed.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, LAB_ADDR, Lab, type LabContact, type LabNode, labUnavailable, waitFor } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`nat_kinds_${process.pid}`);

interface Status {
  reachability: string;
  advertised: string | null;
  dialable: boolean;
  observed: string[];
  portMapping: { external: string } | null;
}
const status = (n: LabNode) => n.json<Status>('status');
const reach = (n: LabNode, want: string, ms: number) =>
  waitFor(
    `${n.name} to be ${want}`,
    async () => {
      const s = await status(n);
      return s.reachability === want ? s : null;
    },
    ms,
  );

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ upnp: true });
  await lab.sh('nat', 'nat1', 'random', 'drop');
  await lab.sh('nat', 'nat2', 'preserve', 'reject');
});
after(() => lab.down());

test('random mapping and reject filtering: mapped with the router, private without; new WAN address while private', async () => {
  const carol = await lab.node('pub1', 'carol');
  const alice = await lab.node('home1', 'alice'); // behind nat1: random mapping
  const bob = await lab.node('home2', 'bob'); // behind nat2: reject
  await Promise.all([carol.start(), alice.start(), bob.start()]);
  // Befriending from a private node needs nat-b's channels (items 4, 7): befriend while mapped.
  await Promise.all([befriend(carol, alice), befriend(carol, bob)]);
  for (const [n, nat] of [
    [alice, LAB_ADDR.nat1],
    [bob, LAB_ADDR.nat2],
  ] as const) {
    const s = await reach(n, 'mapped', 15_000);
    assert.equal(s.advertised, `${nat}:7575`, `${n.name} advertises the mapping`);
    assert.equal(s.dialable, true);
  }

  // Without the mapping (it is removed on stop): private, the router's IP advertised, not dialable.
  await Promise.all([alice.stop(), bob.stop()]);
  await Promise.all([alice.start('--no-port-mapping'), bob.start('--no-port-mapping')]);
  const tStart = Date.now();
  for (const [n, nat] of [
    [alice, LAB_ADDR.nat1],
    [bob, LAB_ADDR.nat2],
  ] as const) {
    const s = await reach(n, 'private', 20_000);
    assert.equal(s.advertised, `${nat}:7575`, `${n.name} advertises its router's IP`);
    assert.equal(s.dialable, false);
    assert.equal(s.portMapping, null);
    assert.ok(
      s.observed.some((o) => o.startsWith(`${nat}:`)),
      `${n.name} observed ${s.observed}`,
    );
  }
  const tPrivate = Date.now() - tStart;
  assert.equal((await status(carol)).reachability, 'public');

  // nat1 gets a new WAN address while private alice holds her channel to carol (dialled by her).
  // Carol also dials alice at her undialable address (on main; nat-b's §16.1 stops that): the dial
  // hangs until its timeout, but a dial still connecting is no rival (§13.4), so alice's channel lives.
  await waitFor(
    'alice to hold a channel to carol',
    async () => (await alice.json<LabContact[]>('contacts')).find((c) => c.uuid === carol.uuid)?.channel,
    15_000,
  );
  // Let the channel live past CHANNEL_QUICK_REDIAL_AFTER_MS (10 s), as one at rest would.
  await new Promise((r) => setTimeout(r, Math.max(0, 10_500 - (Date.now() - tStart))));
  const t0 = Date.now();
  await lab.sh('wanip', 'nat1', '198.18.0.31');
  await carol.json('send', alice.uuid, 'after the new WAN address');
  const got = await waitFor(
    "carol's message in alice's inbox",
    async () => {
      const inbox = await alice.json<{ from: string; text: string; receivedAt: number }[]>('inbox');
      const m = inbox.filter((x) => x.from === carol.uuid && x.text === 'after the new WAN address');
      if (m.length > 1) throw new Error(`arrived ${m.length} times`);
      return m[0];
    },
    25_000,
  );
  const tFlow = got.receivedAt - t0;
  const s = await waitFor(
    'alice to advertise the new WAN address',
    async () => {
      const st = await status(alice);
      return st.advertised === '198.18.0.31:7575' ? st : null;
    },
    15_000,
  );
  const tNoticed = Date.now() - t0;
  assert.equal(s.dialable, false);
  console.log(
    `# random/drop and preserve/reject: private ${tPrivate} ms after the restart; wanip while private: carol's message (sent at the change) received ${tFlow} ms after it; new IP advertised ≤ ${tNoticed} ms after it (CLI polling)`,
  );
});
