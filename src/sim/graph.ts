/**
 * Compact undirected graphs for the simulator (CSR: one offsets array + one neighbours array) and
 * seeded generators: Watts–Strogatz, Barabási–Albert, Holme–Kim.
 *
 * ```ts
 * const g = loadEdgeList('../shared/data/ego-facebook.edges');   // 4,039 nodes, 88,234 edges
 * const h = generate('hk:10000:5:0.5', new Rng(1));
 * for (let i = h.offsets[v]; i < h.offsets[v + 1]; i++) visit(h.neighbours[i]);
 * ```
 */
import { existsSync, readFileSync } from 'node:fs';
import { MeshError } from '../errors.ts';
import type { Rng } from './rng.ts';

/** An undirected simple graph in CSR form; node ids are 0..nodes-1, neighbour lists sorted ascending. */
export interface Graph {
  nodes: number;
  /** Undirected edge count (each edge appears twice in `neighbours`). */
  edges: number;
  /** `offsets[v]..offsets[v+1]` indexes `neighbours` for node v; length nodes+1. */
  offsets: Int32Array;
  neighbours: Int32Array;
  /** Original ids from the edge-list file (index = dense id), when loaded from a file. */
  labels?: string[];
  /** Where it came from: file path or generator spec. */
  source: string;
}

/** Degree of node v. */
export function degree(g: Graph, v: number): number {
  return g.offsets[v + 1] - g.offsets[v];
}

/** Neighbours of v as a subarray view (no copy). */
export function neighboursOf(g: Graph, v: number): Int32Array {
  return g.neighbours.subarray(g.offsets[v], g.offsets[v + 1]);
}

/** Growable pair list of edges (u, v) used while building. */
class EdgeBuffer {
  us = new Int32Array(1024);
  vs = new Int32Array(1024);
  length = 0;
  push(u: number, v: number): void {
    if (this.length === this.us.length) {
      const nu = new Int32Array(this.length * 2);
      nu.set(this.us);
      this.us = nu;
      const nv = new Int32Array(this.length * 2);
      nv.set(this.vs);
      this.vs = nv;
    }
    this.us[this.length] = u;
    this.vs[this.length] = v;
    this.length++;
  }
}

/** Builds a CSR graph from an undirected edge list; drops self-loops and duplicate edges. */
export function fromEdges(nodes: number, us: Int32Array, vs: Int32Array, count: number, source: string): Graph {
  const deg = new Int32Array(nodes + 1);
  for (let i = 0; i < count; i++) {
    const u = us[i];
    const v = vs[i];
    if (u === v) continue;
    deg[u]++;
    deg[v]++;
  }
  const offsets = new Int32Array(nodes + 1);
  for (let v = 0; v < nodes; v++) offsets[v + 1] = offsets[v] + deg[v];
  const fill = offsets.slice(0, nodes);
  const raw = new Int32Array(offsets[nodes]);
  for (let i = 0; i < count; i++) {
    const u = us[i];
    const v = vs[i];
    if (u === v) continue;
    raw[fill[u]++] = v;
    raw[fill[v]++] = u;
  }
  // Sort each list and squeeze out duplicates.
  const outOffsets = new Int32Array(nodes + 1);
  let w = 0;
  for (let v = 0; v < nodes; v++) {
    const list = raw.subarray(offsets[v], offsets[v + 1]);
    list.sort();
    outOffsets[v] = w;
    let prev = -1;
    for (let i = 0; i < list.length; i++) {
      if (list[i] !== prev) {
        raw[w++] = list[i];
        prev = list[i];
      }
    }
  }
  outOffsets[nodes] = w;
  const neighbours = raw.slice(0, w);
  return { nodes, edges: w / 2, offsets: outOffsets, neighbours, source };
}

/** Parses SNAP edge-list text: `u v` per line, `#`/`%` comments, blank lines; ids remapped densely in order of appearance. */
export function parseEdgeList(text: string, source = '<text>'): Graph {
  const ids = new Map<string, number>();
  const labels: string[] = [];
  const buf = new EdgeBuffer();
  const idOf = (s: string): number => {
    let id = ids.get(s);
    if (id === undefined) {
      id = labels.length;
      ids.set(s, id);
      labels.push(s);
    }
    return id;
  };
  let lineNo = 0;
  for (const rawLine of text.split('\n')) {
    lineNo++;
    const line = rawLine.trim();
    if (line === '' || line[0] === '#' || line[0] === '%') continue;
    const parts = line.split(/\s+/);
    if (parts.length < 2)
      throw MeshError.invalidArgument(`${source}:${lineNo}: expected "u v", got ${JSON.stringify(line)}`);
    buf.push(idOf(parts[0]), idOf(parts[1]));
  }
  const g = fromEdges(labels.length, buf.us, buf.vs, buf.length, source);
  g.labels = labels;
  return g;
}

/** Reads an edge-list file. Throws MeshError GRAPH_NOT_FOUND "graph file not found: X" when missing. */
export function loadEdgeList(path: string): Graph {
  if (!existsSync(path)) throw new MeshError('GRAPH_NOT_FOUND', `graph file not found: ${path}`);
  return parseEdgeList(readFileSync(path, 'utf8'), path);
}

/** Watts–Strogatz: ring of n nodes each joined to k/2 neighbours per side, each edge rewired with probability p. */
export function wattsStrogatz(n: number, k: number, p: number, rng: Rng): Graph {
  if (n < 3 || k < 2 || k % 2 !== 0 || k >= n) {
    throw MeshError.invalidArgument(`ws: need n ≥ 3 and an even k with 2 ≤ k < n (got n=${n}, k=${k})`);
  }
  const half = k / 2;
  const key = (u: number, v: number): number => (u < v ? u * n + v : v * n + u);
  const present = new Set<number>();
  const us = new Int32Array(n * half);
  const vs = new Int32Array(n * half);
  let m = 0;
  for (let u = 0; u < n; u++) {
    for (let j = 1; j <= half; j++) {
      const v = (u + j) % n;
      us[m] = u;
      vs[m] = v;
      present.add(key(u, v));
      m++;
    }
  }
  // Rewire the far end of each lattice edge (Watts & Strogatz 1998), keeping the graph simple.
  for (let i = 0; i < m; i++) {
    if (rng.next() >= p) continue;
    const u = us[i];
    let tries = 0;
    let w: number;
    do {
      w = rng.int(n);
      tries++;
    } while ((w === u || present.has(key(u, w))) && tries < 32);
    if (w === u || present.has(key(u, w))) continue;
    present.delete(key(u, vs[i]));
    present.add(key(u, w));
    vs[i] = w;
  }
  return fromEdges(n, us, vs, m, `ws:${n}:${k}:${p}`);
}

/**
 * Holme–Kim (2002): Barabási–Albert preferential attachment with m edges per new node, where each
 * edge after the first is, with probability pt, a triad-formation step (to a random neighbour of the
 * node just attached to) instead. pt = 0 gives plain Barabási–Albert. Starts from a clique of m+1 nodes,
 * so the graph has m(m+1)/2 + (n-m-1)·m edges.
 */
export function holmeKim(n: number, m: number, pt: number, rng: Rng, source = `hk:${n}:${m}:${pt}`): Graph {
  if (m < 1 || n <= m + 1) throw MeshError.invalidArgument(`ba/hk: need m ≥ 1 and n > m+1 (got n=${n}, m=${m})`);
  // Endpoint list: every node appears once per incident edge → uniform pick = degree-proportional pick.
  const total = m * (m + 1) + 2 * (n - m - 1) * m;
  const ends = new Int32Array(total);
  let ne = 0;
  const adj: number[][] = Array.from({ length: n }, () => []);
  const buf = new EdgeBuffer();
  const link = (u: number, v: number): void => {
    adj[u].push(v);
    adj[v].push(u);
    ends[ne++] = u;
    ends[ne++] = v;
    buf.push(u, v);
  };
  for (let u = 0; u <= m; u++) for (let v = u + 1; v <= m; v++) link(u, v);
  const chosen: number[] = [];
  for (let v = m + 1; v < n; v++) {
    chosen.length = 0;
    let last = -1;
    const edgesBefore = ne; // only pick among endpoints that existed before v joined
    while (chosen.length < m) {
      let t = -1;
      if (last >= 0 && rng.next() < pt) {
        // Triad formation: a neighbour of the last PA target not yet linked to v.
        const cand = adj[last];
        for (let tries = 0; tries < 8 && t < 0; tries++) {
          const c = cand[rng.int(cand.length)];
          if (c !== v && !chosen.includes(c)) t = c;
        }
      }
      if (t < 0) {
        do t = ends[rng.int(edgesBefore)];
        while (chosen.includes(t));
        last = t;
      }
      chosen.push(t);
    }
    for (const t of chosen) link(v, t);
  }
  return fromEdges(n, buf.us, buf.vs, buf.length, source);
}

/** Builds a graph from a spec: `ws:N:K:P`, `ba:N:M`, `hk:N:M:P`. */
export function generate(spec: string, rng: Rng): Graph {
  const [kind, ...rest] = spec.split(':');
  const nums = rest.map(Number);
  const bad = (): never => {
    throw MeshError.invalidArgument(`bad graph spec ${JSON.stringify(spec)}: use ws:N:K:P, ba:N:M or hk:N:M:P`);
  };
  if (nums.some((x) => !Number.isFinite(x))) bad();
  switch (kind) {
    case 'ws':
      if (nums.length !== 3) bad();
      return wattsStrogatz(nums[0], nums[1], nums[2], rng);
    case 'ba':
      if (nums.length !== 2) bad();
      return holmeKim(nums[0], nums[1], 0, rng, spec);
    case 'hk':
      if (nums.length !== 3) bad();
      return holmeKim(nums[0], nums[1], nums[2], rng);
    default:
      return bad();
  }
}

/**
 * Labels the connected components of the subgraph induced by `mask` (1 = node present); nodes outside
 * get -1. Lets the simulator answer "joined by a path of online nodes" for many pairs in O(1) each.
 */
export function componentsAmong(g: Graph, mask: Uint8Array): Int32Array {
  const comp = new Int32Array(g.nodes).fill(-1);
  const queue = new Int32Array(g.nodes);
  let label = 0;
  for (let s = 0; s < g.nodes; s++) {
    if (!mask[s] || comp[s] >= 0) continue;
    let head = 0;
    let tail = 0;
    queue[tail++] = s;
    comp[s] = label;
    while (head < tail) {
      const v = queue[head++];
      for (let i = g.offsets[v]; i < g.offsets[v + 1]; i++) {
        const w = g.neighbours[i];
        if (mask[w] && comp[w] < 0) {
          comp[w] = label;
          queue[tail++] = w;
        }
      }
    }
    label++;
  }
  return comp;
}

/** True when a and b are both in `mask` and joined by a path whose nodes are all in `mask` (BFS). */
export function connectedAmong(g: Graph, mask: Uint8Array, a: number, b: number, avoidDirectEdge = false): boolean {
  if (!mask[a] || !mask[b]) return false;
  if (a === b) return true;
  const seen = new Uint8Array(g.nodes);
  const queue = new Int32Array(g.nodes);
  let head = 0;
  let tail = 0;
  queue[tail++] = a;
  seen[a] = 1;
  while (head < tail) {
    const v = queue[head++];
    for (let i = g.offsets[v]; i < g.offsets[v + 1]; i++) {
      const w = g.neighbours[i];
      if (w === b) {
        if (avoidDirectEdge && v === a) continue;
        return true;
      }
      if (mask[w] && !seen[w]) {
        seen[w] = 1;
        queue[tail++] = w;
      }
    }
  }
  return false;
}

/**
 * Bridges of the subgraph induced by `mask`, in one iterative DFS (Tarjan's low-link), O(nodes +
 * edges): `isBridge(a, b)` is true when the edge a–b is in that subgraph and removing it separates
 * a from b — i.e. exactly when `connectedAmong(g, mask, a, b, true)` is false for an edge a–b with
 * both ends in `mask`. The plan asks this for every lookup pair (a BFS per pair cost ~50 CPU s at
 * 10⁶ nodes).
 */
export function bridgesAmong(g: Graph, mask: Uint8Array): { isBridge(a: number, b: number): boolean } {
  const n = g.nodes;
  const { offsets, neighbours } = g;
  const disc = new Int32Array(n).fill(-1);
  const low = new Int32Array(n);
  const parent = new Int32Array(n).fill(-1);
  const next = new Int32Array(n);
  const stack = new Int32Array(n);
  // bridgeUp[v] = 1: the tree edge parent[v]–v is a bridge (every bridge is a tree edge).
  const bridgeUp = new Uint8Array(n);
  let time = 0;
  for (let r = 0; r < n; r++) {
    if (!mask[r] || disc[r] >= 0) continue;
    let top = 0;
    stack[top++] = r;
    disc[r] = low[r] = time++;
    next[r] = offsets[r];
    while (top > 0) {
      const v = stack[top - 1];
      if (next[v] < offsets[v + 1]) {
        const w = neighbours[next[v]++];
        if (!mask[w] || w === parent[v]) continue; // a simple graph: one edge back to the parent
        if (disc[w] < 0) {
          disc[w] = low[w] = time++;
          parent[w] = v;
          next[w] = offsets[w];
          stack[top++] = w;
        } else if (disc[w] < low[v]) low[v] = disc[w];
      } else {
        top--;
        const p = parent[v];
        if (p >= 0) {
          if (low[v] < low[p]) low[p] = low[v];
          if (low[v] > disc[p]) bridgeUp[v] = 1;
        }
      }
    }
  }
  return {
    isBridge: (a, b) => (parent[b] === a && bridgeUp[b] === 1) || (parent[a] === b && bridgeUp[a] === 1),
  };
}

/** Hop distance from a to b in the graph (BFS over all nodes), or -1 if unreachable. */
export function hopDistance(g: Graph, a: number, b: number, mask?: Uint8Array): number {
  if (a === b) return 0;
  const dist = new Int32Array(g.nodes).fill(-1);
  const queue = new Int32Array(g.nodes);
  let head = 0;
  let tail = 0;
  queue[tail++] = a;
  dist[a] = 0;
  while (head < tail) {
    const v = queue[head++];
    for (let i = g.offsets[v]; i < g.offsets[v + 1]; i++) {
      const w = g.neighbours[i];
      if (dist[w] >= 0 || (mask && !mask[w] && w !== b)) continue;
      dist[w] = dist[v] + 1;
      if (w === b) return dist[w];
      queue[tail++] = w;
    }
  }
  return -1;
}
