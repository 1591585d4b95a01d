/**
 * The simulator's contract and shared pieces: options, the result document (DESIGN.md §8), the
 * scenario constants, the latency model and small numeric helpers. Runners import these; the
 * entry point (simulator.ts) re-exports them.
 */
import type { CoreInit } from '../protocol/config.ts';
import { MINUTE } from '../protocol/constants.ts';
import type { Graph } from './graph.ts';
import { hashPair } from './rng.ts';

/** Which routing is simulated. */
export type Strategy = 'seed' | 'bounded' | 'kademlia';

/** Progress callback payload. */
export interface SimProgress {
  phase: 'setup' | 'startup' | 'maintenance' | 'moves' | 'lookups' | 'done';
  done: number;
  total: number;
}

/** Options of one run. */
export interface SimOptions {
  /** A graph, or… */
  graph?: Graph;
  /** …an edge-list file, or… */
  graphFile?: string;
  /** …a generator spec `ws:N:K:P` | `ba:N:M` | `hk:N:M:P`. */
  generate?: string;
  /** @default 1 */
  seed?: number;
  /** @default 'bounded' */
  strategy?: Strategy;
  /** Bounded strategy: referral radius R. @default the core's REFERRAL_RADIUS */
  referralRadius?: number;
  /** Bounded strategy: search radius S. @default the core's SEARCH_RADIUS */
  searchRadius?: number;
  /** Fraction of nodes offline. @default 0.3 */
  offline?: number;
  /** Fraction of online nodes that change address. @default 0.1 */
  moved?: number;
  /** Relocations to measure. @default 1000 */
  lookups?: number;
  /** Maintenance measurement window, virtual ms. @default 1 h */
  durationMs?: number;
  /**
   * Run the cores on the real keyed crypto instead of the cost-free stand-in (sim-crypto.ts); the
   * result document is the same either way (test/integration/sim-crypto.test.ts). @default false
   */
  realCrypto?: boolean;
  /** Extra core options (override the strategy's). */
  coreInit?: CoreInit;
  /** Always-online peers with a domain that every node bootstrapped to (issue 11: the directory). @default 0 */
  domainPeers?: number;
  /**
   * Lookups started together, in waves of up to this many with distinct searchers and targets
   * (scenario.ts). Other values than 1 change the results (concurrent searches share caches and
   * budgets) and make long runs much faster. @default 1 (one after another)
   */
  lookupConcurrency?: number;
  /** Called now and then (every few thousand events). */
  onProgress?: (p: SimProgress) => void;
}

/** Message / byte counters. */
export interface Traffic {
  messages: number;
  bytes: number;
}

/** Messages of one kind by causal bucket. */
export interface KindCounts {
  maintenance: number;
  startup: number;
  move: number;
  relocation: number;
  other: number;
}

/** One run's results; the keys up to peakRssMb are the DESIGN.md §8 contract. */
export interface SimResult {
  strategy: Strategy;
  seed: number;
  nodes: number;
  edges: number;
  lookups: number;
  successRate: number;
  latencyMs: { p50: number; p95: number; p99: number };
  messagesPerRelocation: number;
  bytesPerRelocation: number;
  maintenanceMessagesPerNodeHour: number;
  maintenanceBytesPerNodeHour: number;
  stateEntriesPerNode: { mean: number; max: number };
  wallSeconds: number;
  peakRssMb: number;
  /** Everything else: inputs, the parts of the totals, counters by kind and drop reason. */
  graph: string;
  offline: number;
  moved: number;
  durationMs: number;
  referralRadius: number | null;
  searchRadius: number | null;
  /** Whether the cores exchanged and routed by contact digests (`--no-digests`: false); null for Kademlia. */
  digests: boolean | null;
  /** Lookups started together in one wave (`--lookup-concurrency`; 1: one after another). */
  lookupConcurrency: number;
  onlineNodes: number;
  movedNodes: number;
  successes: number;
  /** Lookups whose target was online and joined to the searcher by online nodes. */
  eligibleLookups: number;
  searchMessagesPerLookup: number;
  searchBytesPerLookup: number;
  moveMessagesPerMove: number;
  moveBytesPerMove: number;
  startupMessagesPerNode: number;
  messagesByKind: Record<string, KindCounts>;
  drops: Record<string, number>;
  virtualSeconds: number;
  events: number;
}

/** How long the startup storm is given before maintenance is measured. */
export const SETTLE_MS = 10 * MINUTE;
/** A lookup that has not delivered its message after this long counts as failed. */
export const LOOKUP_TIMEOUT_MS = 2 * MINUTE;
/** Longest the move phase may run before the lookups start. */
export const MOVE_PHASE_MAX_MS = 30 * MINUTE;
/** One-way link latency range, ms, drawn once per unordered pair. */
export const LATENCY_MIN_MS = 20;
export const LATENCY_MAX_MS = 150;

/** Address of node i in the initial plan: 10.a.b.c:7575. */
export function initialAddress(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}:7575`;
}

/** Address of the k-th moved node: 11.a.b.c:7575 (never held by anyone before). */
export function movedAddress(k: number): string {
  return `11.${(k >>> 16) & 255}.${(k >>> 8) & 255}.${k & 255}:7575`;
}

/** One-way latency between nodes a and b, ms: uniform in [LATENCY_MIN_MS, LATENCY_MAX_MS], fixed per pair. */
export function linkLatency(seed: number, a: number, b: number): number {
  const lo = Math.min(a, b);
  const hi = Math.max(a, b);
  return LATENCY_MIN_MS + (hashPair(seed, lo, hi) % (LATENCY_MAX_MS - LATENCY_MIN_MS + 1));
}

/** Percentile (nearest rank) of a sorted array; 0 when empty. */
export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))];
}

/** p50 / p95 / p99 of latencies (sorts them in place). */
export function latencySummary(latencies: number[]): SimResult['latencyMs'] {
  latencies.sort((a, b) => a - b);
  return { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) };
}

/** Rounds to `digits` decimals. */
export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

/** A copy of `o` with its keys sorted (stable JSON). */
export function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

/** Peak resident set size of this process so far, MB. */
export function peakRss(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}
