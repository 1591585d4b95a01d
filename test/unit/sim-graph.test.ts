import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MeshError } from '../../src/errors.ts';
import {
  bridgesAmong,
  componentsAmong,
  connectedAmong,
  degree,
  generate,
  hopDistance,
  loadEdgeList,
  neighboursOf,
  parseEdgeList,
} from '../../src/sim/graph.ts';
import { Rng } from '../../src/sim/rng.ts';

const nbrs = (g: ReturnType<typeof parseEdgeList>, v: number) => [...neighboursOf(g, v)];

describe('parseEdgeList', () => {
  const cases = [
    { desc: 'triangle', input: '0 1\n1 2\n2 0\n', nodes: 3, edges: 3 },
    { desc: 'comments and blank lines', input: '# SNAP header\n\n0 1\n% other comment\n  \n1 2\n', nodes: 3, edges: 2 },
    { desc: 'sparse, non-numeric ids', input: '1000 77\n77 abc\n', nodes: 3, edges: 2 },
    { desc: 'duplicates both ways', input: '0 1\n1 0\n0 1\n', nodes: 2, edges: 1 },
    { desc: 'self loops dropped', input: '0 0\n0 1\n1 1\n', nodes: 2, edges: 1 },
    { desc: 'tabs and CRLF', input: '0\t1\r\n1\t2\r\n', nodes: 3, edges: 2 },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const g = parseEdgeList(c.input);
      assert.equal(g.nodes, c.nodes);
      assert.equal(g.edges, c.edges);
      assert.equal(g.neighbours.length, 2 * c.edges);
    });
  }

  it('remaps ids densely in order of appearance and keeps the labels', () => {
    const g = parseEdgeList('1000 77\n77 abc\n');
    assert.deepEqual(g.labels, ['1000', '77', 'abc']);
    assert.deepEqual(nbrs(g, 1), [0, 2]);
    assert.deepEqual(nbrs(g, 0), [1]);
  });

  it('builds correct, sorted CSR neighbour lists', () => {
    const g = parseEdgeList('0 1\n1 2\n2 3\n3 0\n3 1\n');
    assert.deepEqual(nbrs(g, 0), [1, 3]);
    assert.deepEqual(nbrs(g, 1), [0, 2, 3]);
    assert.deepEqual(nbrs(g, 2), [1, 3]);
    assert.deepEqual(nbrs(g, 3), [0, 1, 2]);
    assert.equal(degree(g, 1), 3);
    assert.equal(g.offsets.length, g.nodes + 1);
  });

  it('rejects a line with one id', () => {
    assert.throws(
      () => parseEdgeList('0 1\n7\n'),
      (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT',
    );
  });

  it('loadEdgeList: missing file → GRAPH_NOT_FOUND', () => {
    assert.throws(
      () => loadEdgeList('/nonexistent/x.edges'),
      (e: unknown) => e instanceof MeshError && e.code === 'GRAPH_NOT_FOUND' && /graph file not found/.test(e.message),
    );
  });

  it('loads ego-Facebook: 4,039 nodes, 88,234 edges', () => {
    const g = loadEdgeList(new URL('../../../shared/data/ego-facebook.edges', import.meta.url).pathname);
    assert.equal(g.nodes, 4039);
    assert.equal(g.edges, 88234);
  });
});

describe('generators', () => {
  const cases = [
    { spec: 'ws:1000:10:0.1', nodes: 1000, edges: 5000 },
    { spec: 'ws:500:4:0', nodes: 500, edges: 1000 },
    // BA/HK: clique of m+1 then m edges per new node: m(m+1)/2 + (n-m-1)·m.
    { spec: 'ba:1000:3', nodes: 1000, edges: 6 + 996 * 3 },
    { spec: 'hk:2000:5:0.5', nodes: 2000, edges: 15 + 1994 * 5 },
  ];
  for (const c of cases) {
    it(`${c.spec}: ${c.nodes} nodes, ${c.edges} edges, simple and connected`, () => {
      const g = generate(c.spec, new Rng(7));
      assert.equal(g.nodes, c.nodes);
      assert.equal(g.edges, c.edges);
      for (let v = 0; v < g.nodes; v++) {
        const l = nbrs(g, v);
        assert.ok(!l.includes(v), 'no self loop');
        assert.equal(new Set(l).size, l.length, 'no duplicate edge');
      }
      const comp = componentsAmong(g, new Uint8Array(g.nodes).fill(1));
      assert.equal(Math.max(...comp), 0, 'one component');
    });
  }

  it('same seed → same graph; another seed → another graph', () => {
    for (const spec of ['ws:300:6:0.2', 'ba:300:3', 'hk:300:3:0.7']) {
      const a = generate(spec, new Rng(1));
      const b = generate(spec, new Rng(1));
      const c = generate(spec, new Rng(2));
      assert.deepEqual(a.neighbours, b.neighbours);
      assert.notDeepEqual(a.neighbours, c.neighbours);
    }
  });

  it('ws with p=0 is the ring lattice', () => {
    const g = generate('ws:10:4:0', new Rng(1));
    assert.deepEqual(nbrs(g, 0), [1, 2, 8, 9]);
  });

  it('triad formation raises clustering (hk vs ba)', () => {
    const triangles = (g: ReturnType<typeof generate>) => {
      let t = 0;
      for (let v = 0; v < g.nodes; v++) {
        const l = nbrs(g, v);
        const s = new Set(l);
        for (const a of l) for (const b of nbrs(g, a)) if (b > a && s.has(b)) t++;
      }
      return t;
    };
    assert.ok(triangles(generate('hk:2000:4:0.9', new Rng(3))) > 2 * triangles(generate('ba:2000:4', new Rng(3))));
  });

  it('rejects bad specs', () => {
    for (const spec of ['xx:10', 'ws:10:3:0.1', 'ba:10', 'hk:a:b:c']) {
      assert.throws(
        () => generate(spec, new Rng(1)),
        (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT',
      );
    }
  });
});

describe('connectivity helpers', () => {
  // 0-1-2-3 path plus 4 isolated from them (4-5).
  const g = parseEdgeList('0 1\n1 2\n2 3\n4 5\n');
  const all = new Uint8Array(6).fill(1);
  it('connectedAmong follows online nodes only', () => {
    assert.equal(connectedAmong(g, all, 0, 3), true);
    assert.equal(connectedAmong(g, all, 0, 5), false);
    const mask = all.slice();
    mask[1] = 0;
    assert.equal(connectedAmong(g, mask, 0, 3), false);
    assert.equal(connectedAmong(g, mask, 1, 2), false, 'an offline endpoint is not connected');
  });
  it('componentsAmong agrees with connectedAmong', () => {
    const mask = all.slice();
    mask[2] = 0;
    const c = componentsAmong(g, mask);
    assert.equal(c[2], -1);
    assert.equal(c[0], c[1]);
    assert.notEqual(c[0], c[3]);
    assert.equal(c[4], c[5]);
  });
  it('bridgesAmong agrees with connectedAmong(…, avoidDirectEdge) on every online edge', () => {
    // Sparse and clustered generated graphs, a third of the nodes masked out: every edge with both
    // ends online is a bridge exactly when no other online path joins its ends.
    let bridges = 0;
    let edges = 0;
    for (const spec of ['ba:300:1', 'hk:400:2:0.5', 'ws:300:4:0.2']) {
      const h = generate(spec, new Rng(7));
      const rng = new Rng(3);
      const mask = new Uint8Array(h.nodes);
      for (let v = 0; v < h.nodes; v++) mask[v] = rng.next() < 0.67 ? 1 : 0;
      const b = bridgesAmong(h, mask);
      for (let u = 0; u < h.nodes; u++)
        for (let i = h.offsets[u]; i < h.offsets[u + 1]; i++) {
          const v = h.neighbours[i];
          if (!mask[u] || !mask[v]) continue;
          edges++;
          const bridge = b.isBridge(u, v);
          if (bridge) bridges++;
          assert.equal(bridge, !connectedAmong(h, mask, u, v, true), `${spec} ${u}-${v}`);
        }
    }
    assert.ok(bridges > 10 && bridges < edges - 10, `both kinds of edge are checked (${bridges}/${edges})`);
  });
  it('hopDistance', () => {
    assert.equal(hopDistance(g, 0, 3), 3);
    assert.equal(hopDistance(g, 0, 0), 0);
    assert.equal(hopDistance(g, 0, 5), -1);
  });
});

describe('Rng', () => {
  it('is deterministic by seed and in range', () => {
    const a = new Rng(42);
    const b = new Rng(42);
    for (let i = 0; i < 1000; i++) {
      const x = a.next();
      assert.equal(x, b.next());
      assert.ok(x >= 0 && x < 1);
      const k = a.int(7);
      assert.equal(k, b.int(7));
      assert.ok(Number.isInteger(k) && k >= 0 && k < 7);
    }
    assert.deepEqual(new Rng(1).bytes(33), new Rng(1).bytes(33));
    assert.notDeepEqual(new Rng(1).bytes(32), new Rng(2).bytes(32));
  });
  it('int is roughly uniform', () => {
    const r = new Rng(5);
    const counts = new Array(10).fill(0);
    for (let i = 0; i < 100_000; i++) counts[r.int(10)]++;
    for (const c of counts) assert.ok(Math.abs(c - 10_000) < 500, `bucket count ${c}`);
  });
});
