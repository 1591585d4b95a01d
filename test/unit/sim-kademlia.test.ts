import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { bucketIndex, KAD_K, KademliaNetwork, xorDistance } from '../../src/sim/kademlia.ts';
import { Rng } from '../../src/sim/rng.ts';

const lat = () => 50;

describe('XOR metric', () => {
  const cases = [
    { desc: 'same id', input: [5, 9, 5, 9], expected: 0 },
    { desc: 'low bits', input: [0, 0b1010, 0, 0b0110], expected: 0b1100 },
    { desc: 'high word', input: [1, 0, 0, 0], expected: 2 ** 32 },
    { desc: 'both words', input: [3, 1, 1, 0], expected: 2 * 2 ** 32 + 1 },
    { desc: 'top bit of lo is unsigned', input: [0, 0x80000000, 0, 0], expected: 2 ** 31 },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const [a, b, x, y] = c.input;
      assert.equal(xorDistance(a, b, x, y), c.expected);
      assert.equal(xorDistance(x, y, a, b), c.expected, 'symmetric');
    });
  }
  it('bucket index = floor(log2 distance)', () => {
    assert.equal(bucketIndex(0), -1);
    assert.equal(bucketIndex(1), 0);
    assert.equal(bucketIndex(2), 1);
    assert.equal(bucketIndex(3), 1);
    assert.equal(bucketIndex(2 ** 40), 40);
    assert.equal(bucketIndex(2 ** 51 + 5), 51);
  });
});

describe('KademliaNetwork', () => {
  const n = 500;
  const online = new Uint8Array(n).fill(1);
  const kad = new KademliaNetwork(n, new Rng(1), { online, latency: lat });

  it('routing tables: no self, no duplicates, ≤ k per bucket, all buckets of a converged network', () => {
    for (let v = 0; v < n; v++) {
      const t = [...kad.table(v)];
      assert.ok(!t.includes(v));
      assert.equal(new Set(t).size, t.length);
      const perBucket = new Map<number, number>();
      for (const e of t) {
        const b = bucketIndex(xorDistance(kad.idHi[v], kad.idLo[v], kad.idHi[e], kad.idLo[e]));
        perBucket.set(b, (perBucket.get(b) ?? 0) + 1);
      }
      for (const c of perBucket.values()) assert.ok(c <= KAD_K);
    }
    // The top bucket (half the id space) is always full with 500 nodes.
    assert.ok(kad.table(0).length >= KAD_K);
  });

  it('records start at the k globally closest nodes', () => {
    for (const t of [0, 17, 499]) {
      const all = [...Array(n).keys()].filter((v) => v !== t);
      all.sort(
        (a, b) =>
          xorDistance(kad.idHi[a], kad.idLo[a], kad.idHi[t], kad.idLo[t]) -
          xorDistance(kad.idHi[b], kad.idLo[b], kad.idHi[t], kad.idLo[t]),
      );
      const want = new Set(all.slice(0, KAD_K));
      for (const h of want) assert.ok(kad.holds(h, t));
    }
  });

  it('every lookup finds the value when everyone is online; messages plausible', () => {
    const rng = new Rng(9);
    let msgs = 0;
    for (let i = 0; i < 200; i++) {
      const a = rng.int(n);
      const b = rng.int(n);
      const r = kad.findValue(a, b);
      assert.ok(r.found, `lookup ${a} → ${b}`);
      msgs += r.messages;
      assert.equal(r.messages % 2, 0, 'request + response per RPC when nobody is offline');
      assert.ok(r.timeMs >= 0);
    }
    const mean = msgs / 200;
    // log2(500/20) ≈ 4.6 steps of α=3 RPCs at most; typically a handful of RPCs.
    assert.ok(mean > 0 && mean < 2 * 3 * 8, `mean messages ${mean}`);
  });

  it('FIND_NODE converges on the k closest', () => {
    const target = 123;
    const r = kad.lookup(7, kad.id(target));
    assert.equal(r.closest[0], target, 'the node itself is the closest to its id');
    assert.equal(r.closest.length, KAD_K);
  });

  it('offline nodes cost a timed-out request (one message) and lookups still succeed mostly', () => {
    const m = 1000;
    const on = new Uint8Array(m).fill(1);
    const rng = new Rng(4);
    for (let i = 0; i < m; i++) if (rng.next() < 0.3) on[i] = 0;
    const net = new KademliaNetwork(m, new Rng(2), { online: on, latency: lat, rpcTimeoutMs: 5000 });
    let found = 0;
    let tries = 0;
    let odd = 0;
    for (let i = 0; i < 200; i++) {
      const a = rng.int(m);
      const b = rng.int(m);
      if (!on[a] || !on[b]) continue;
      tries++;
      const r = net.findValue(a, b);
      if (r.found) found++;
      if (r.messages % 2 === 1) odd++;
    }
    assert.ok(found / tries > 0.95, `success ${found}/${tries}`);
    assert.ok(odd > 0, 'some lookups hit offline nodes');
  });

  it('publish moves the record to the k closest online nodes', () => {
    const r = kad.publish(42);
    assert.ok(r.messages >= 2 * KAD_K);
    let holders = 0;
    for (let v = 0; v < n; v++) if (kad.holds(v, 42)) holders++;
    assert.equal(holders, KAD_K);
    assert.ok(kad.findValue(3, 42).found);
  });

  it('maintenance: a refresh lookup per bucket plus republish', () => {
    const r = kad.maintenanceHour(5, new Rng(3));
    assert.ok(r.messages > 2 * KAD_K, `messages ${r.messages}`);
    assert.ok(r.bytes > r.messages * 16);
  });

  it('is deterministic by seed', () => {
    const a = new KademliaNetwork(200, new Rng(5), { online: new Uint8Array(200).fill(1), latency: lat });
    const b = new KademliaNetwork(200, new Rng(5), { online: new Uint8Array(200).fill(1), latency: lat });
    assert.deepEqual(a.tableEntries, b.tableEntries);
    assert.deepEqual(a.findValue(1, 2), b.findValue(1, 2));
  });
});
