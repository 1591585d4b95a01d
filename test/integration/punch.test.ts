/**
 * Direct upgrade coordination (docs/PROTOCOL.md §17) on the virtual-time testnet: two contacts
 * exchange candidates (`connect`), synchronise (`sync`) and punch at the same moment; the testnet's
 * router model (src/testing/testnet.ts `nat`) lets the punch through port-preserving NATs and fails
 * it through a symmetric (random-mapping) one. 20 ms one-way latency, fixed seeds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { PUNCH_BACKOFF_MS, PUNCH_MAX_PER_WINDOW, PUNCH_TIMEOUT_MS } from '../../src/protocol/constants.ts';
import type { AppEvent } from '../../src/protocol/events.ts';
import { createTestnet, type Testnet } from '../../src/testing/testnet.ts';

const PUNCH_PORT = 7576;

function pair(seed: number, startBoth = true): Testnet {
  const net = createTestnet(2, { seed, core: { punchPort: PUNCH_PORT } });
  net.connect(0, 1);
  if (startBoth) net.startAll();
  else net.command(0, { kind: 'start' });
  net.run();
  return net;
}

function punched(events: AppEvent[]): Array<{ ok: boolean; reason?: string }> {
  return events.flatMap((e) =>
    e.event === 'contact:punch' ? [{ ok: e.ok, ...(e.reason ? { reason: e.reason } : {}) }] : [],
  );
}

function punch(net: Testnet, i: number): { attempt: string | null; reason?: string } {
  const id = net.command(i, { kind: 'punch', uuid: net.nodes[1 - i].uuid });
  const r = net.result(i, id);
  assert.ok(r?.ok, `punch command answered: ${JSON.stringify(r)}`);
  return r.value as { attempt: string | null; reason?: string };
}

describe('punch coordination', () => {
  it('port-preserving NATs: connect + sync, both start at the same moment, both end direct', () => {
    const net = pair(171);
    const [a, b] = net.nodes;
    const before = net.sent.punch ?? 0;
    const t0 = net.now;
    assert.ok(punch(net, 0).attempt);
    net.run();
    // connect (a → b, answered with b's candidates), then sync (a → b): two punch messages.
    assert.equal((net.sent.punch ?? 0) - before, 2);
    assert.deepEqual(punched(a.events), [{ ok: true }]);
    assert.deepEqual(punched(b.events), [{ ok: true }]);
    assert.ok(net.direct.has('0-1'));
    const [pa, pb] = [net.punchLog.find((p) => p.node === 0), net.punchLog.find((p) => p.node === 1)];
    assert.ok(pa && pb);
    // a sends sync at t0 + 40 (the answer's round trip) and starts rtt/2 = 20 ms later; b starts when sync arrives.
    assert.equal(pa.at, t0 + 60);
    assert.equal(pb.at, t0 + 60);
    // The lower UUID runs the TLS client.
    const lowerIsA = a.uuid < b.uuid;
    assert.equal(pa.role, lowerIsA ? 'client' : 'server');
    assert.equal(pb.role, lowerIsA ? 'server' : 'client');
    assert.deepEqual(
      net.nodes.map((n) => n.drops),
      [[], []],
    );
  });

  it('a symmetric (random-mapping) NAT: the punch fails on both ends, the initiator backs off', () => {
    const net = pair(172);
    net.nat.set(1, 'random');
    const [a, b] = net.nodes;
    punch(net, 0);
    net.run();
    assert.deepEqual(punched(a.events), [{ ok: false, reason: 'TIMEOUT' }]);
    assert.deepEqual(punched(b.events), [{ ok: false, reason: 'TIMEOUT' }]);
    assert.equal(net.direct.size, 0);
    // Within the backoff nothing starts; after it a new attempt goes, and the next wait doubles.
    assert.deepEqual(punch(net, 0), { uuid: b.uuid, attempt: null, reason: 'BACKOFF' });
    net.run(PUNCH_BACKOFF_MS);
    assert.ok(punch(net, 0).attempt);
    net.run(PUNCH_TIMEOUT_MS + 1_000);
    assert.equal(punched(a.events).length, 2);
    net.run(PUNCH_BACKOFF_MS);
    assert.equal(punch(net, 0).reason, 'BACKOFF', 'second failure: two minutes');
    net.run(PUNCH_BACKOFF_MS);
    assert.ok(punch(net, 0).attempt);
  });

  it('a contact that cannot say where it is seen answers no candidates: no sync, no SYNs', () => {
    const net = pair(173, false); // only a started (and learnt its observed address from b's answer)
    const [a] = net.nodes;
    const before = net.sent.punch ?? 0;
    punch(net, 0);
    net.run();
    assert.equal((net.sent.punch ?? 0) - before, 1, 'connect only');
    assert.deepEqual(punched(a.events), [{ ok: false, reason: 'NO_CANDIDATES' }]);
    assert.equal(net.punchLog.length, 0);
  });

  it('a node without a punch port says so and sends nothing', () => {
    const net = createTestnet(2, { seed: 174 });
    net.connect(0, 1);
    net.startAll();
    net.run();
    const before = net.sent.punch ?? 0;
    assert.equal(punch(net, 0).reason, 'NOT_PUNCHING');
    net.run();
    assert.equal((net.sent.punch ?? 0) - before, 0);
  });

  it(`the responder answers at most ${PUNCH_MAX_PER_WINDOW} connects per contact per window (LIMIT_PUNCH)`, () => {
    const net = pair(175);
    const [a, b] = net.nodes;
    for (let i = 0; i <= PUNCH_MAX_PER_WINDOW; i++) {
      punch(net, 0); // each succeeds, so no backoff stands in the way
      net.run(PUNCH_TIMEOUT_MS + 1_000);
    }
    const results = punched(a.events);
    assert.equal(results.length, PUNCH_MAX_PER_WINDOW + 1);
    assert.deepEqual(results.slice(0, PUNCH_MAX_PER_WINDOW), Array(PUNCH_MAX_PER_WINDOW).fill({ ok: true }));
    assert.deepEqual(results[PUNCH_MAX_PER_WINDOW], { ok: false, reason: 'CONNECT_RATE_LIMITED' });
    assert.deepEqual(
      b.drops.map((d) => d.reason),
      ['LIMIT_PUNCH'],
    );
  });

  it('both start at once: the lower UUID’s attempt goes on, one sync, both end direct', () => {
    const net = pair(176);
    const [a, b] = net.nodes;
    const before = net.sent.punch ?? 0;
    punch(net, 0);
    punch(net, 1);
    net.run();
    assert.equal((net.sent.punch ?? 0) - before, 3, 'two connects, one sync');
    assert.deepEqual(punched(a.events), [{ ok: true }]);
    assert.deepEqual(punched(b.events), [{ ok: true }]);
    const lower = a.uuid < b.uuid ? 0 : 1;
    assert.equal(net.punchLog.find((p) => p.node === lower)?.role, 'client');
  });
});
