/**
 * Kill -9, short (the long one: bench/kill9.ts): two real daemons, 200 messages sent through A's
 * local API while each node is SIGKILLed twice at random (seeded) moments and restarted. Every
 * message A accepted reaches B's inbox exactly once and A's outbox drains.
 * Run under the e2e lock: flock /tmp/mesh-e2e.lock node --import tsx --test test/e2e/kill9.test.ts
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runKill9 } from '../../bench/kill9.ts';

test('kill -9 both nodes twice while sending 200 messages: 0 lost, 0 duplicated, outbox drained', {
  timeout: 300_000,
}, async (t) => {
  const s = await runKill9({
    messages: 200,
    killsPerNode: 2,
    seed: 9,
    hosts: ['127.0.0.51', '127.0.0.52'],
    apiPorts: [17751, 17752],
    sendRatePerSec: 8,
    drainTimeoutMs: 120_000,
  });
  const detail = JSON.stringify(s);
  t.diagnostic(detail);
  assert.deepEqual(s.kills, { A: 2, B: 2 }, detail);
  assert.ok(s.killsDuringSend >= 3, detail);
  assert.equal(s.accepted, 200, detail);
  assert.equal(s.lost, 0, detail);
  assert.equal(s.duplicated, 0, detail);
  assert.equal(s.unexpected, 0, detail);
  assert.equal(s.delivered, 200, detail);
  assert.equal(s.outboxQueued, 0, detail);
  assert.equal(s.undeliveredInOutbox, 0, detail);
});
