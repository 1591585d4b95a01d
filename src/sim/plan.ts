/**
 * The plan of one run, drawn before any node runs: the graph, who goes offline, who moves, and the
 * lookup pairs with whether each can succeed at all. Mesh and the Kademlia baseline share it, so
 * both face the same graph, churn and pairs.
 */
import { HOUR } from '../protocol/constants.ts';
import { bridgesAmong, type Graph, generate, loadEdgeList } from './graph.ts';
import { Rng } from './rng.ts';
import type { SimOptions, SimProgress, Strategy } from './sim-types.ts';

/** Inputs echoed into the result document. */
export interface PlanEcho {
  base: { strategy: Strategy; seed: number; nodes: number; edges: number; lookups: number };
  extra: {
    graph: string;
    offline: number;
    moved: number;
    durationMs: number;
    onlineNodes: number;
    movedNodes: number;
    eligibleLookups: number;
    domainPeers: number;
    /** Lookups started together in one wave (1: one after another). */
    lookupConcurrency: number;
  };
}

/** Everything a runner needs besides the options. */
export interface SimPlan extends PlanEcho {
  seed: number;
  strategy: Strategy;
  g: Graph;
  durationMs: number;
  /** Who is online from the end of startup on (1/0 per node). */
  online: Uint8Array;
  onlineCount: number;
  /** Nodes that change address, ascending. */
  movedNodes: Int32Array;
  /** Lookup pairs [searcher, target]: a moved target and one of its online contacts. */
  pairs: [number, number][];
  /** Per lookup: searcher and target share an online path besides their direct edge. */
  eligibleAt: boolean[];
  eligible: number;
  /** Lookups started together in one wave (scenario.ts; 1: sequential). */
  lookupConcurrency: number;
  /** PRNG streams, independent so that changing one phase does not shift the draws of another. */
  rng: { key: Rng; core: Rng; scenario: Rng; kad: Rng; engine: Rng };
  progress: (p: SimProgress) => void;
  wallStart: number;
}

function resolveGraph(o: SimOptions, rng: Rng): Graph {
  if (o.graph) return o.graph;
  if (o.graphFile) return loadEdgeList(o.graphFile);
  if (o.generate) return generate(o.generate, rng);
  throw new Error('runSimulation: give graph, graphFile or generate');
}

/** `count` distinct nodes among the eligible ones, chosen by `rng`, ascending. */
function pickCount(rng: Rng, n: number, count: number, eligible: (i: number) => boolean): Int32Array {
  const pool: number[] = [];
  for (let i = 0; i < n; i++) if (eligible(i)) pool.push(i);
  const k = Math.min(count, pool.length);
  for (let i = 0; i < k; i++) {
    const j = i + rng.int(pool.length - i);
    const t = pool[i];
    pool[i] = pool[j];
    pool[j] = t;
  }
  return Int32Array.from(pool.slice(0, k)).sort();
}

/** Lookup pairs: a moved target and one of its online contacts (graph neighbours). */
function pickPairs(g: Graph, online: Uint8Array, movedNodes: Int32Array, wanted: number, rng: Rng): [number, number][] {
  const pairs: [number, number][] = [];
  if (movedNodes.length === 0) return pairs;
  for (let tries = 0; pairs.length < wanted && tries < wanted * 20; tries++) {
    const t = movedNodes[rng.int(movedNodes.length)];
    const cands: number[] = [];
    for (let i = g.offsets[t]; i < g.offsets[t + 1]; i++) if (online[g.neighbours[i]]) cands.push(g.neighbours[i]);
    if (cands.length === 0) continue;
    pairs.push([cands[rng.int(cands.length)], t]);
  }
  return pairs;
}

/** Draws the plan of a run from its options. */
export function makePlan(options: SimOptions, wallStart: number): SimPlan {
  const seed = options.seed ?? 1;
  const strategy = options.strategy ?? 'bounded';
  const offlineFrac = options.offline ?? 0.3;
  const movedFrac = options.moved ?? 0.1;
  const durationMs = options.durationMs ?? HOUR;
  const progress = options.onProgress ?? (() => {});
  const lookupConcurrency = Math.max(1, Math.floor(options.lookupConcurrency ?? 1));

  const root = new Rng(seed);
  const graphRng = root.fork();
  const churnRng = root.fork();
  const rng = { key: root.fork(), core: root.fork(), scenario: root.fork(), kad: root.fork(), engine: root.fork() };

  const g = resolveGraph(options, graphRng);
  const n = g.nodes;
  progress({ phase: 'setup', done: 0, total: n });

  const online = new Uint8Array(n).fill(1);
  for (const v of pickCount(churnRng, n, Math.round(offlineFrac * n), () => true)) online[v] = 0;
  let onlineCount = 0;
  for (let v = 0; v < n; v++) onlineCount += online[v];
  const movedNodes = pickCount(churnRng, n, Math.round(movedFrac * onlineCount), (v) => online[v] === 1);
  const pairs = pickPairs(g, online, movedNodes, options.lookups ?? 1000, rng.scenario);
  // A lookup counts when searcher and target share a path of online nodes OTHER than their direct
  // edge: that edge is what went stale, so a target whose only online contact is the searcher
  // cannot be found by anyone (a degree-1 node in ego-Facebook, say).
  // With peers with a domain (always online, every node bootstrapped to them) every lookup has a way.
  const domainPeers = options.domainPeers ?? 0;
  // Both ends are online and adjacent, so that path exists exactly when their edge is no bridge of
  // the online subgraph: one pass over the graph instead of a BFS per pair.
  const bridges = domainPeers > 0 || pairs.length === 0 ? undefined : bridgesAmong(g, online);
  const eligibleAt = pairs.map(([s, t]) => bridges === undefined || !bridges.isBridge(s, t));
  const eligible = eligibleAt.filter(Boolean).length;
  return {
    seed,
    strategy,
    g,
    durationMs,
    online,
    onlineCount,
    movedNodes,
    pairs,
    eligibleAt,
    eligible,
    lookupConcurrency,
    rng,
    progress,
    wallStart,
    base: { strategy, seed, nodes: n, edges: g.edges, lookups: pairs.length },
    extra: {
      graph: g.source,
      offline: offlineFrac,
      moved: movedFrac,
      durationMs,
      onlineNodes: onlineCount,
      movedNodes: movedNodes.length,
      eligibleLookups: eligible,
      domainPeers,
      lookupConcurrency,
    },
  };
}
