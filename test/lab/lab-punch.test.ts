/**
 * The transport's hole punch in the NAT lab (docs/PROTOCOL.md §17): two real HttpsTransports in the
 * homes open a TCP connection to each other's observed punch-port endpoint at the same moment and run
 * the pinned TLS channel over it. Preserve/drop routers let it through (netlab README: reliable);
 * a random-mapping (symmetric) router cannot (the endpoint pub1 observed is not the one the peer's
 * SYNs reach). `reject` filtering is timing-dependent and not asserted here (bench/punch-lab.ts
 * measures it).
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Lab, labUnavailable } from './harness.ts';
import { PunchRig } from './punch-lab.ts';

const why = labUnavailable();
const lab = new Lab(`nat_punch_${process.pid}`);
const rig = new PunchRig(lab);

before(async () => {
  if (why) throw new Error(why);
  await lab.up({ map: 'preserve', filter: 'drop' });
  await rig.start();
});
after(async () => {
  await rig.stop();
  await lab.down();
});

test('preserve/drop on both routers: every punch opens a pinned channel that carries requests both ways', async () => {
  for (let i = 0; i < 3; i++) {
    const r = await rig.round();
    assert.ok(r.ok, `round ${i}: ${JSON.stringify(r)}`);
    // The endpoints are the routers' WAN addresses: the connection really crossed both NATs.
    assert.match(r.a.remote ?? '', /^198\.18\.0\.22:/);
    assert.match(r.b.remote ?? '', /^198\.18\.0\.21:/);
  }
});

test('a random-mapping (symmetric) router: the punch fails on both sides, no channel is left', async () => {
  await lab.sh('nat', 'nat2', 'random', 'drop');
  for (let i = 0; i < 2; i++) {
    const r = await rig.round(300, 2_500);
    assert.equal(r.ok, false, `round ${i}: ${JSON.stringify(r)}`);
    assert.equal(r.a.ok, false);
    assert.equal(r.b.ok, false);
  }
});
