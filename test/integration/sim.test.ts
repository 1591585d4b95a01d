import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshCore } from '../../src/protocol/node.ts';
import { generate, loadEdgeList, parseEdgeList } from '../../src/sim/graph.ts';
import { renderReport } from '../../src/sim/report.ts';
import { Rng } from '../../src/sim/rng.ts';
import { runSimulation, SIM_CORE_CLASS, type SimOptions } from '../../src/sim/simulator.ts';

const ring = (n: number) => parseEdgeList(Array.from({ length: n }, (_, i) => `${i} ${(i + 1) % n}`).join('\n'));
const strip = (r: Record<string, unknown>) => {
  const { wallSeconds: _w, peakRssMb: _p, ...rest } = r;
  return rest;
};

describe('simulator on small graphs with known answers', () => {
  it('drives the one MeshCore class from src/protocol/node.ts (no forked core)', () => {
    assert.equal(SIM_CORE_CLASS, MeshCore);
  });

  it('path 0-1-2: no mutual contact and no other route → the relocation cannot succeed', async () => {
    // Whoever moves, its searcher's only other path to it goes through the searcher itself.
    const r = await runSimulation({ graph: parseEdgeList('0 1\n1 2\n'), seed: 1, offline: 0, moved: 0.34, lookups: 3 });
    assert.equal(r.movedNodes, 1);
    assert.equal(r.successRate, 0);
  });

  it('triangle: the mutual contact relays, one relay hop', async () => {
    const r = await runSimulation({ graph: ring(3), seed: 1, offline: 0, moved: 1 / 3, lookups: 2 });
    assert.equal(r.successRate, 1);
    // Move: T announces to its 2 contacts (2 requests + 2 responses) and that is all: the default
    // referral radius is 0 since contact digests (issue 11), so no referral follows. The searcher
    // finds T through the mutual contact its digest names.
    assert.equal(r.moveMessagesPerMove, 4);
    assert.ok(r.messagesByKind['ip-relay'].relocation >= 2, 'the IP went through one relay per lookup');
  });

  // Ring of n, one moved node, its neighbour searches the long way round. Move cost = 4 (announce to
  // 2 contacts + responses) + 4 per referral generation that still has a new node to reach (R=2 → 12).
  const ringCases = [
    { n: 5, R: 2, S: 2, success: 1, move: 12 },
    { n: 6, R: 2, S: 2, success: 1, move: 12 },
    // Searcher side covers S hops, referral side R+1 hops: a ring of 8 leaves a gap → fails.
    { n: 8, R: 2, S: 2, success: 0, move: 12 },
    { n: 8, R: 3, S: 3, success: 1, move: 16 },
  ];
  for (const c of ringCases) {
    it(`ring of ${c.n}, R=${c.R} S=${c.S}: success ${c.success}, ${c.move} move messages`, async () => {
      const r = await runSimulation({
        graph: ring(c.n),
        seed: 1,
        offline: 0,
        moved: 1 / c.n,
        lookups: 2,
        referralRadius: c.R,
        searchRadius: c.S,
      });
      assert.equal(r.successRate, c.success);
      assert.equal(r.moveMessagesPerMove, c.move);
      if (c.success) assert.ok(r.latencyMs.p50 > 0 && r.latencyMs.p50 < 10_000);
    });
  }

  it('same seed and options → identical document (minus wallSeconds / peakRssMb); another seed differs', async () => {
    const o: SimOptions = {
      graph: generate('hk:150:3:0.5', new Rng(1)),
      seed: 3,
      offline: 0.2,
      moved: 0.1,
      lookups: 10,
    };
    const a = strip({ ...(await runSimulation(o)) });
    const b = strip({ ...(await runSimulation(o)) });
    assert.deepEqual(a, b);
    const c = strip({ ...(await runSimulation({ ...o, seed: 4 })) });
    assert.notDeepEqual(a, c);
  });

  it('--lookup-concurrency: same plan and pairs, waves overlap in virtual time; inputs echoed', async () => {
    const o: SimOptions = { graph: generate('hk:300:3:0.3', new Rng(2)), seed: 2, lookups: 30 };
    const seq = await runSimulation(o);
    const conc = await runSimulation({ ...o, lookupConcurrency: 8 });
    assert.equal(seq.lookupConcurrency, 1);
    assert.equal(conc.lookupConcurrency, 8);
    assert.equal(seq.digests, true);
    for (const k of ['lookups', 'eligibleLookups', 'movedNodes', 'onlineNodes', 'moveMessagesPerMove'] as const)
      assert.equal(conc[k], seq[k], k);
    assert.ok(conc.successes > 0, 'concurrent lookups still find targets');
    // Failed lookups wait out their timeout together: less virtual time, fewer events.
    assert.ok(conc.virtualSeconds < seq.virtualSeconds, `${conc.virtualSeconds} < ${seq.virtualSeconds}`);
    assert.ok(conc.events < seq.events);
    const noDigests = await runSimulation({ ...o, lookups: 2, coreInit: { digests: false } });
    assert.equal(noDigests.digests, false);
  });

  it('the output has every contract key', async () => {
    const r = await runSimulation({ graph: ring(6), seed: 1, offline: 0, moved: 0.2, lookups: 1 });
    for (const k of [
      'strategy',
      'seed',
      'nodes',
      'edges',
      'lookups',
      'successRate',
      'latencyMs',
      'messagesPerRelocation',
      'bytesPerRelocation',
      'maintenanceMessagesPerNodeHour',
      'maintenanceBytesPerNodeHour',
      'stateEntriesPerNode',
      'wallSeconds',
      'peakRssMb',
    ])
      assert.ok(k in r, k);
    assert.deepEqual(Object.keys(r.latencyMs), ['p50', 'p95', 'p99']);
    assert.deepEqual(Object.keys(r.stateEntriesPerNode), ['mean', 'max']);
    // Hourly announce to each contact + its response: 2 contacts → 4 messages per node-hour.
    assert.equal(r.maintenanceMessagesPerNodeHour, 4);
  });

  it('kademlia strategy runs on the same pairs and finds them', async () => {
    const r = await runSimulation({
      graph: generate('hk:300:3:0.5', new Rng(1)),
      seed: 1,
      strategy: 'kademlia',
      lookups: 50,
    });
    assert.equal(r.strategy, 'kademlia');
    assert.ok(r.successRate > 0.9);
    assert.ok(r.maintenanceMessagesPerNodeHour > 100);
  });

  it('renders a self-contained HTML report', async () => {
    const g = generate('hk:120:3:0.5', new Rng(1));
    const runs = [];
    for (const strategy of ['bounded', 'kademlia'] as const)
      for (const offline of [0, 0.3])
        runs.push(await runSimulation({ graph: g, seed: 1, strategy, offline, lookups: 5 }));
    const html = renderReport(runs);
    assert.match(html, /^<!doctype html>/);
    assert.match(html, /<svg/);
    assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org)/);
  });
});

describe('ego-Facebook (slow)', () => {
  it('bounded: successRate ≥ 0.99 on 100 lookups', { timeout: 15 * 60_000 }, async () => {
    const graph = loadEdgeList(new URL('../../../shared/data/ego-facebook.edges', import.meta.url).pathname);
    const r = await runSimulation({ graph, seed: 1, strategy: 'bounded', offline: 0.3, moved: 0.01, lookups: 100 });
    assert.equal(r.nodes, 4039);
    assert.equal(r.edges, 88234);
    assert.ok(r.successRate >= 0.99, `successRate ${r.successRate}`);
  });
});
