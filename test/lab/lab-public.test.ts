/**
 * The NAT lab's control case: two nodes on public hosts (no NAT between them) add each other and
 * exchange messages both ways through real `bin/mesh` daemons in network namespaces. If this fails,
 * the harness or the lab is broken, not NAT traversal.
 */
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { befriend, deliver, Lab, type LabContact, labUnavailable } from './harness.ts';

const why = labUnavailable();
const lab = new Lab(`mesh_pub_${process.pid}`);

before(async () => {
  if (why) throw new Error(why);
  await lab.up();
});
after(() => lab.down());

test('two public hosts befriend and message each other both ways', async () => {
  const carol = await lab.node('pub1', 'carol');
  const dave = await lab.node('pub2', 'dave');
  await carol.start();
  await dave.start();
  await befriend(carol, dave);
  await deliver(carol, dave, 'hello dave');
  await deliver(dave, carol, 'hello carol');
  const seen = await dave.json<LabContact[]>('contacts');
  assert.equal(seen.find((c) => c.uuid === carol.uuid)?.address, '198.18.0.11:7575');
});
