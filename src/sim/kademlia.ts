/**
 * A Kademlia DHT model (Maymounkov & Mazières 2002; parameters as libp2p kad-dht: k = 20, α = 3)
 * used as the "peer" baseline the simulator compares Mesh's friend-graph routing with.
 *
 * Model, and what it leaves out on purpose:
 * - Ids are 52-bit integers drawn from the seeded PRNG (XOR distances are then exact doubles). With up
 *   to ~10^6 nodes only the top log2(N) bits shape the routing, so 52 bits behave like 160.
 * - Routing tables are those of a converged network: every k-bucket holds up to k entries picked at
 *   random from the whole membership (online or not — like Mesh contacts, entries are not evicted
 *   when a node goes offline, so RPCs to offline entries time out).
 * - Each node's address record is stored at the k nodes closest to its id. A moved node looks up its
 *   own id (FIND_NODE) and re-STOREs its new record at the k closest online nodes it found. Holders of
 *   the old version are treated as holding nothing (a searcher would try the stale address, fail in one
 *   RTT and go on; this model skips that small cost — it favours Kademlia slightly).
 * - A lookup is iterative with α parallel RPCs; it ends when the k closest known nodes have all
 *   answered (or failed), or, for FIND_VALUE, as soon as a node returns the current record.
 * - Accounting: every RPC request is one message and every RPC response is one message (a timed-out
 *   RPC is one message), exactly as Mesh is counted (each `send` is one message and each answered
 *   `send` one more for its response).
 * - Maintenance per node-hour: one FIND_NODE per non-empty k-bucket (bucket refresh, run hourly when
 *   a bucket saw no traffic — we assume none did) + republish of the node's own record (FIND_NODE on
 *   its own id + k STOREs). Holders republishing every record they hold (the original paper) is left
 *   out, as libp2p does; this again makes Kademlia look cheaper, i.e. it is a lower bound.
 *
 * ```ts
 * const kad = new KademliaNetwork(4039, new Rng(1), { online, latency: (a, b) => 50 });
 * const r = kad.findValue(searcher, target);   // { found, messages, bytes, timeMs, hops }
 * ```
 */
import type { Rng } from './rng.ts';

/** Bucket size (Kademlia paper; libp2p kad-dht). */
export const KAD_K = 20;
/** Parallel RPCs per lookup (Kademlia paper; libp2p kad-dht). */
export const KAD_ALPHA = 3;
/** Bits per id: keeps XOR distances exact in a double. */
export const KAD_ID_BITS = 52;
/** RPC timeout, ms: the same as Mesh's REQUEST_TIMEOUT_MS so offline peers cost both the same. */
export const KAD_RPC_TIMEOUT_MS = 5_000;
/** FIND_NODE / FIND_VALUE / STORE request without payload: type, 32-byte key, 34-byte sender id, framing. */
export const KAD_REQUEST_BYTES = 80;
/** One peer in a FIND_NODE answer: 34-byte peer id + ~26 bytes of addresses. */
export const KAD_PEER_BYTES = 60;
/** A signed address record: id, "ip:port", sequence number, 64-byte Ed25519 signature, framing. */
export const KAD_RECORD_BYTES = 150;
/** Framing of any response. */
export const KAD_RESPONSE_BYTES = 16;

const TWO32 = 4294967296;

/** XOR distance of two 52-bit ids given as (hi 20 bits, lo 32 bits); exact. */
export function xorDistance(aHi: number, aLo: number, bHi: number, bLo: number): number {
  return ((aHi ^ bHi) >>> 0) * TWO32 + ((aLo ^ bLo) >>> 0);
}

/** k-bucket index of a distance: floor(log2(d)), -1 for d = 0 (bucket i holds distances in [2^i, 2^(i+1))). */
export function bucketIndex(distance: number): number {
  if (distance <= 0) return -1;
  return Math.floor(Math.log2(distance));
}

/** What a lookup cost and found. */
export interface LookupResult {
  found: boolean;
  messages: number;
  bytes: number;
  /** Virtual time from the first RPC to the end of the lookup, ms. */
  timeMs: number;
  /** RPCs sent. */
  rpcs: number;
  /** The k closest nodes that answered, closest first. */
  closest: number[];
}

/** Options of the model. */
export interface KademliaInit {
  /** 1 = node online. */
  online: Uint8Array;
  /** One-way latency between two nodes, ms (deterministic). */
  latency: (a: number, b: number) => number;
  /** @default KAD_K */
  k?: number;
  /** @default KAD_ALPHA */
  alpha?: number;
  /** @default KAD_RPC_TIMEOUT_MS */
  rpcTimeoutMs?: number;
}

/** A converged Kademlia network over n nodes (index 0..n-1). */
export class KademliaNetwork {
  readonly n: number;
  readonly k: number;
  readonly alpha: number;
  readonly rpcTimeoutMs: number;
  readonly idHi: Uint32Array;
  readonly idLo: Uint32Array;
  /** Routing table of node v: entries tableEntries[tableOffsets[v] .. tableOffsets[v+1]). */
  readonly tableOffsets: Int32Array;
  readonly tableEntries: Int32Array;
  /** Non-empty buckets per node (for refresh accounting). */
  readonly bucketCount: Uint8Array;
  /** holders[t*k + j]: the nodes storing node t's current address record (-1 = none). */
  readonly holders: Int32Array;
  /** Records each node holds (state accounting). */
  readonly held: Int32Array;
  online: Uint8Array;
  latency: (a: number, b: number) => number;
  /** Node indexes sorted by id. */
  private readonly sorted: Int32Array;
  private readonly sortedIds: Float64Array;

  constructor(n: number, rng: Rng, init: KademliaInit) {
    this.n = n;
    this.k = init.k ?? KAD_K;
    this.alpha = init.alpha ?? KAD_ALPHA;
    this.rpcTimeoutMs = init.rpcTimeoutMs ?? KAD_RPC_TIMEOUT_MS;
    this.online = init.online;
    this.latency = init.latency;
    this.idHi = new Uint32Array(n);
    this.idLo = new Uint32Array(n);
    for (let v = 0; v < n; v++) {
      this.idHi[v] = rng.u32() >>> 12;
      this.idLo[v] = rng.u32();
    }
    const ids = new Float64Array(n);
    for (let v = 0; v < n; v++) ids[v] = this.idHi[v] * TWO32 + this.idLo[v];
    this.sorted = Int32Array.from({ length: n }, (_, i) => i).sort((a, b) => ids[a] - ids[b]);
    this.sortedIds = Float64Array.from(this.sorted, (v) => ids[v]);
    const built = this.buildTables(ids, rng);
    this.tableOffsets = built.offsets;
    this.tableEntries = built.entries;
    this.bucketCount = built.buckets;
    this.holders = new Int32Array(n * this.k).fill(-1);
    this.held = new Int32Array(n);
    for (let t = 0; t < n; t++) this.setHolders(t, this.globalClosest(ids[t], t));
  }

  /** The 52-bit id of node v as a number. */
  id(v: number): number {
    return this.idHi[v] * TWO32 + this.idLo[v];
  }

  /** Routing-table entries of node v. */
  table(v: number): Int32Array {
    return this.tableEntries.subarray(this.tableOffsets[v], this.tableOffsets[v + 1]);
  }

  /** State held by node v: routing-table entries + stored records. */
  stateEntries(v: number): number {
    return this.tableOffsets[v + 1] - this.tableOffsets[v] + this.held[v];
  }

  /** First index in `sortedIds` with id ≥ x. */
  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.n;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.sortedIds[mid] < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Fills every bucket from the whole membership (a converged network), k random entries per full bucket. */
  private buildTables(ids: Float64Array, rng: Rng): { offsets: Int32Array; entries: Int32Array; buckets: Uint8Array } {
    const n = this.n;
    const k = this.k;
    const offsets = new Int32Array(n + 1);
    const buckets = new Uint8Array(n);
    let entries = new Int32Array(n * 64);
    let w = 0;
    const pick: number[] = [];
    for (let v = 0; v < n; v++) {
      offsets[v] = w;
      const x = ids[v];
      for (let L = 0; L < KAD_ID_BITS; L++) {
        const span = 2 ** (KAD_ID_BITS - 1 - L); // size of the half-block at depth L+1
        // Own block at depth L+1 holds only v → every deeper bucket is empty.
        const ownStart = Math.floor(x / span) * span;
        const flipped = Math.floor(x / (2 * span)) * 2 * span + (ownStart % (2 * span) === 0 ? span : 0);
        const i0 = this.lowerBound(flipped);
        const i1 = this.lowerBound(flipped + span);
        const count = i1 - i0;
        if (count > 0) {
          buckets[v]++;
          if (w + k > entries.length) {
            const bigger = new Int32Array(entries.length * 2);
            bigger.set(entries);
            entries = bigger;
          }
          if (count <= k) {
            for (let i = i0; i < i1; i++) entries[w++] = this.sorted[i];
          } else {
            // k distinct random picks from the range: rejection sampling (count > k, mostly count ≫ k).
            pick.length = 0;
            while (pick.length < k) {
              const i = i0 + rng.int(count);
              if (!pick.includes(i)) pick.push(i);
            }
            for (const i of pick) entries[w++] = this.sorted[i];
          }
        }
        const o0 = this.lowerBound(ownStart);
        const o1 = this.lowerBound(ownStart + span);
        if (o1 - o0 <= 1) break;
      }
    }
    offsets[n] = w;
    return { offsets, entries: entries.slice(0, w), buckets };
  }

  /** The k nodes closest to id x in the whole membership, excluding `self` (exact). */
  private globalClosest(x: number, self: number): number[] {
    // Smallest aligned block around x holding ≥ k+1 nodes: everything outside is farther than everything inside.
    let span = 1;
    let i0 = 0;
    let i1 = 0;
    for (;;) {
      const start = Math.floor(x / span) * span;
      i0 = this.lowerBound(start);
      i1 = this.lowerBound(start + span);
      if (i1 - i0 >= this.k + 1 || span >= 2 ** KAD_ID_BITS) break;
      span *= 2;
    }
    const cand: number[] = [];
    for (let i = i0; i < i1; i++) if (this.sorted[i] !== self) cand.push(this.sorted[i]);
    const hi = Math.floor(x / TWO32);
    const lo = x % TWO32;
    cand.sort((a, b) => this.dist(a, hi, lo) - this.dist(b, hi, lo));
    return cand.slice(0, this.k);
  }

  private dist(v: number, hi: number, lo: number): number {
    return xorDistance(this.idHi[v], this.idLo[v], hi, lo);
  }

  /** Replaces the holders of t's record. */
  setHolders(t: number, nodes: number[]): void {
    const base = t * this.k;
    for (let j = 0; j < this.k; j++) {
      const old = this.holders[base + j];
      if (old >= 0) this.held[old]--;
      this.holders[base + j] = -1;
    }
    for (let j = 0; j < nodes.length && j < this.k; j++) {
      this.holders[base + j] = nodes[j];
      this.held[nodes[j]]++;
    }
  }

  /** True when node y holds t's current record. */
  holds(y: number, t: number): boolean {
    const base = t * this.k;
    for (let j = 0; j < this.k; j++) if (this.holders[base + j] === y) return true;
    return false;
  }

  /** The k entries of y's routing table closest to (hi, lo), closest first. */
  closestInTable(y: number, hi: number, lo: number, out: number[]): void {
    out.length = 0;
    const dists: number[] = [];
    for (let i = this.tableOffsets[y]; i < this.tableOffsets[y + 1]; i++) {
      const e = this.tableEntries[i];
      const d = this.dist(e, hi, lo);
      if (out.length === this.k && d >= dists[this.k - 1]) continue;
      let j = out.length < this.k ? out.length : this.k - 1;
      while (j > 0 && dists[j - 1] > d) {
        dists[j] = dists[j - 1];
        out[j] = out[j - 1];
        j--;
      }
      dists[j] = d;
      out[j] = e;
    }
  }

  /**
   * Iterative lookup from `origin` for the 52-bit id x (FIND_NODE), or — with `record` set — for the
   * record of node `record` (FIND_VALUE: stops at the first node holding the current record).
   */
  lookup(origin: number, x: number, record = -1): LookupResult {
    const hi = Math.floor(x / TWO32);
    const lo = x % TWO32;
    const k = this.k;
    // Shortlist sorted by distance; state: 0 new, 1 in flight, 2 answered, 3 failed.
    const cand: number[] = [];
    const cdist: number[] = [];
    const state = new Map<number, number>();
    const add = (v: number): void => {
      if (v === origin || state.has(v)) return;
      state.set(v, 0);
      const d = this.dist(v, hi, lo);
      let j = cand.length;
      cand.push(v);
      cdist.push(d);
      while (j > 0 && cdist[j - 1] > d) {
        cand[j] = cand[j - 1];
        cdist[j] = cdist[j - 1];
        j--;
      }
      cand[j] = v;
      cdist[j] = d;
    };
    const buf: number[] = [];
    this.closestInTable(origin, hi, lo, buf);
    for (const v of buf) add(v);
    const isValue = record >= 0;
    const respBytesFor = (y: number): number =>
      isValue && this.holds(y, record)
        ? KAD_RESPONSE_BYTES + KAD_RECORD_BYTES
        : KAD_RESPONSE_BYTES + k * KAD_PEER_BYTES;
    const inflight: { node: number; at: number; ok: boolean }[] = [];
    let now = 0;
    let messages = 0;
    let bytes = 0;
    let rpcs = 0;
    for (;;) {
      // Fill the α slots with the closest not-yet-asked among the k closest live candidates.
      while (inflight.length < this.alpha) {
        let next = -1;
        let seen = 0;
        for (let i = 0; i < cand.length && seen < k; i++) {
          const s = state.get(cand[i])!;
          if (s === 3) continue;
          seen++;
          if (s === 0) {
            next = cand[i];
            break;
          }
        }
        if (next < 0) break;
        state.set(next, 1);
        rpcs++;
        messages++;
        bytes += KAD_REQUEST_BYTES;
        if (this.online[next]) inflight.push({ node: next, at: now + 2 * this.latency(origin, next), ok: true });
        else inflight.push({ node: next, at: now + this.rpcTimeoutMs, ok: false });
      }
      if (inflight.length === 0) break;
      let e = 0;
      for (let i = 1; i < inflight.length; i++) if (inflight[i].at < inflight[e].at) e = i;
      const done = inflight[e];
      inflight.splice(e, 1);
      now = done.at;
      if (!done.ok) {
        state.set(done.node, 3);
        continue;
      }
      state.set(done.node, 2);
      messages++;
      bytes += respBytesFor(done.node);
      if (isValue && this.holds(done.node, record)) {
        return { found: true, messages, bytes, timeMs: now, rpcs, closest: [] };
      }
      this.closestInTable(done.node, hi, lo, buf);
      for (const v of buf) add(v);
    }
    const closest: number[] = [];
    for (let i = 0; i < cand.length && closest.length < k; i++) if (state.get(cand[i]) === 2) closest.push(cand[i]);
    return { found: !isValue && closest.length > 0, messages, bytes, timeMs: now, rpcs, closest };
  }

  /** FIND_VALUE for node t's address record from `origin`. */
  findValue(origin: number, t: number): LookupResult {
    if (this.holds(origin, t)) return { found: true, messages: 0, bytes: 0, timeMs: 0, rpcs: 0, closest: [] };
    return this.lookup(origin, this.id(t), t);
  }

  /** Node v (re)publishes its record: FIND_NODE on its own id, then STORE at the k closest that answered. */
  publish(v: number): { messages: number; bytes: number } {
    const r = this.lookup(v, this.id(v));
    let messages = r.messages;
    let bytes = r.bytes;
    for (let j = 0; j < r.closest.length; j++) {
      messages += 2; // STORE request + response (the closest list only holds nodes that just answered)
      bytes += KAD_REQUEST_BYTES + KAD_RECORD_BYTES + KAD_RESPONSE_BYTES;
    }
    this.setHolders(v, r.closest);
    return { messages, bytes };
  }

  /** One hour of maintenance by node v: a refresh lookup per non-empty bucket + republish of its own record. */
  maintenanceHour(v: number, rng: Rng): { messages: number; bytes: number } {
    let messages = 0;
    let bytes = 0;
    const x = this.id(v);
    for (let b = 0; b < this.bucketCount[v]; b++) {
      // A random id in the bucket at depth b: flip bit (51-b), randomise the bits below it.
      const bit = 2 ** (KAD_ID_BITS - 1 - b);
      const base = Math.floor(x / (2 * bit)) * 2 * bit + (Math.floor(x / bit) % 2 === 0 ? bit : 0);
      const target = base + Math.floor(rng.next() * bit);
      const r = this.lookup(v, target);
      messages += r.messages;
      bytes += r.bytes;
    }
    const p = this.lookup(v, x);
    messages += p.messages + 2 * p.closest.length;
    bytes += p.bytes + p.closest.length * (KAD_REQUEST_BYTES + KAD_RECORD_BYTES + KAD_RESPONSE_BYTES);
    return { messages, bytes };
  }
}
