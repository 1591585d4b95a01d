/**
 * Clustering of the simulator's graphs (the simulator does not print it): for each argument, an
 * edge-list file or a generator spec built exactly as `mesh sim --seed` builds it, prints nodes,
 * mean degree, the average local clustering coefficient and the global transitivity.
 *   node --import tsx bench/sim-clustering.ts [--seed n] <file | ws:N:K:P | hk:N:M:P> …
 */
import { existsSync } from 'node:fs';
import { type Graph, generate, loadEdgeList } from '../src/sim/graph.ts';
import { Rng } from '../src/sim/rng.ts';

/** Average local clustering (nodes of degree < 2 count as 0) and transitivity (3·triangles / triads). */
function clustering(g: Graph): { local: number; transitivity: number } {
  const mark = new Int32Array(g.nodes).fill(-1);
  let sumLocal = 0;
  let closed = 0;
  let triads = 0;
  for (let v = 0; v < g.nodes; v++) {
    const a = g.offsets[v];
    const b = g.offsets[v + 1];
    const d = b - a;
    if (d < 2) continue;
    for (let i = a; i < b; i++) mark[g.neighbours[i]] = v;
    let links = 0; // ordered pairs of neighbours that are adjacent (each edge counted twice)
    for (let i = a; i < b; i++) {
      const u = g.neighbours[i];
      for (let j = g.offsets[u]; j < g.offsets[u + 1]; j++) if (mark[g.neighbours[j]] === v) links++;
    }
    const pairs = d * (d - 1);
    sumLocal += links / pairs;
    closed += links;
    triads += pairs;
  }
  return { local: sumLocal / g.nodes, transitivity: closed / triads };
}

const args = process.argv.slice(2);
let seed = 1;
for (let i = 0; i < args.length; i++) {
  if (args[i] === '--seed') {
    seed = Number(args[++i]);
    continue;
  }
  const spec = args[i];
  // Same stream as plan.ts: the graph is drawn from the first fork of the root PRNG.
  const g = existsSync(spec) ? loadEdgeList(spec) : generate(spec, new Rng(seed).fork());
  const c = clustering(g);
  console.log(
    JSON.stringify({
      graph: spec,
      nodes: g.nodes,
      edges: g.edges,
      meanDegree: Number(((2 * g.edges) / g.nodes).toFixed(2)),
      clusteringLocal: Number(c.local.toFixed(4)),
      transitivity: Number(c.transitivity.toFixed(4)),
    }),
  );
}
