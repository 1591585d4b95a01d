/**
 * The Mesh simulator (DESIGN.md §6, §8): many `MeshCore`s — the very class real nodes run, imported
 * from src/protocol/node.ts, not a copy — on a virtual clock and an in-memory network with a latency
 * model; or the Kademlia model (kademlia.ts) as the peer baseline on the same graph, churn and pairs.
 *
 * ```ts
 * const r = await runSimulation({ graph: loadEdgeList('ego.edges'), seed: 1, strategy: 'bounded',
 *   offline: 0.3, moved: 0.1, lookups: 1000 });
 * console.log(r.successRate, r.messagesPerRelocation);
 * ```
 *
 * Scenario (one run):
 * 1. Graph → one node per vertex, one contact pair per edge (keys from the seeded PRNG, one shared
 *    secret per edge, address "10.a.b.c:7575").
 * 2. Startup: every node gets `start` at a random time in the first minute (announces to every
 *    contact) and the network settles until SETTLE_MS. Everyone is online here on purpose: a node that
 *    starts while contacts are away searches for each of them, a storm that says nothing about steady
 *    state. Startup traffic is reported as `startupMessagesPerNode`, not as maintenance.
 * 3. Churn: at SETTLE_MS the `offline` fraction (exactly round(f·N) nodes, chosen by the PRNG) goes
 *    silent: its contacts still hold its address and requests to it time out after the request's
 *    `timeoutMs` (a silent host; reason TIMEOUT). Its contacts notice at their next announce.
 *    Maintenance = everything periodic work (hourly announce, sweep…) sends in
 *    [SETTLE_MS, SETTLE_MS + durationMs) → per online node-hour. Use durationMs ≥ the announce interval.
 * 4. Moves: round(moved · online) online nodes get a fresh address "11.a.b.c:7575" (spread over 10 s);
 *    the old address is then bound to nobody (a request there is refused after one RTT). Each gets the
 *    `address` command: it announces to its contacts, which update it and spread referrals. All the
 *    traffic this causes (causally tagged) is the move cost, reported per move.
 * 5. Lookups (sequential): target = a moved node, searcher = one of its online contacts. The searcher
 *    must miss the move: we overwrite the searcher's contact record of the target back to the old
 *    address (status active) just before the lookup — as if it had been away during the move. Then
 *    `send` to the target: the core tries the stale address (refused), searches through contacts, and
 *    emits `relocated`; the lookup ends when the message is delivered or after LOOKUP_TIMEOUT_MS.
 *    Latency = command → `relocated` (or → delivered if the target reached the searcher first).
 *    Traffic causally descending from the lookup (search, answers, "send connect", referral spread
 *    after the relocation, the message itself) is the search cost.
 *    messagesPerRelocation = search messages per lookup + move messages per moved node (every
 *    relocation needs one move; amortising the move's spread over the moves keeps strategies that
 *    push referrals eagerly honest against those that search lazily). Same for bytes.
 * Counting: every `send` effect is one message (even if the target is offline), every `respond` that
 * goes on the wire one more. Bytes = body + Σ(header name + value + 4) for requests, body for responses.
 * successRate = successes / lookups whose target is online and joined to the searcher by online nodes
 * other than through their (stale) direct edge
 */
import { deriveUuid, generateKeyPairs } from '../crypto/index.ts';
import type { TransportErrorCode } from '../errors.ts';
import { type CoreInit, SEED_CONFIG } from '../protocol/config.ts';
import { HOUR, MINUTE, SECOND } from '../protocol/constants.ts';
import type { Command, CoreEvent, Effect } from '../protocol/events.ts';
import { type CoreSnapshot, MeshCore } from '../protocol/node.ts';
import { PERIODIC_TIMERS, type TimerId, timerKey } from '../protocol/timers.ts';
import type { ContactRecord, SelfRecord } from '../protocol/types.ts';
import { EventQueue } from './event-queue.ts';
import { connectedAmong, type Graph, generate, loadEdgeList } from './graph.ts';
import { KAD_REQUEST_BYTES, KAD_RESPONSE_BYTES, KademliaNetwork } from './kademlia.ts';
import { hashPair, Rng } from './rng.ts';

/** The core class the simulator drives: the one real nodes run (tests assert the identity). */
export const SIM_CORE_CLASS = MeshCore;

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
  /** Extra core options (override the strategy's). */
  coreInit?: CoreInit;
  /** Called now and then (every few thousand events). */
  onProgress?: (p: SimProgress) => void;
}

/** Message / byte counters. */
export interface Traffic {
  messages: number;
  bytes: number;
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
  messagesByKind: Record<
    string,
    { maintenance: number; startup: number; move: number; relocation: number; other: number }
  >;
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
/** Port of outgoing connections as the receiver sees it (the core learns our port from Mesh-Port). */
const EPHEMERAL_PORT = 40000;
/** Nodes sampled for Kademlia's maintenance estimate. */
const KAD_MAINTENANCE_SAMPLE = 256;
/** Size of the application message in the Kademlia baseline: about what a Mesh message request is. */
const KAD_APP_MESSAGE_BYTES = 350;

// Causal tags: every event carries one, and effects produced while handling it inherit it.
const T_MAINT = 0;
const T_MOVE = 1;
const T_RELOC = 2;
const TAG_NAMES = ['maintenance', 'move', 'relocation'] as const;

const E_REQUEST = 0;
const E_RESPONSE = 1;
const E_FAIL = 2;
const E_TIMER = 3;
const E_COMMAND = 4;
const E_TIMEOUT = 5;

interface SimEvent {
  t: number;
  seq: number;
  kind: number;
  node: number;
  tag: number;
  /** request/response/fail/timeout: the sim send id; timer: generation. */
  sid: number;
  from: number;
  status: number;
  str: string;
  headers: Record<string, string> | null;
  body: Uint8Array | null;
  command: Command | null;
  /** timer: which one. */
  timer: TimerId | null;
}

interface PendingSend {
  from: number;
  req: number;
  to: number;
  kind: string;
}

/** Address of node i in the initial plan: 10.a.b.c:7575. */
export function initialAddress(i: number): string {
  return `10.${(i >>> 16) & 255}.${(i >>> 8) & 255}.${i & 255}:7575`;
}

function movedAddress(k: number): string {
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

function headerBytes(h: Record<string, string>): number {
  let n = 0;
  for (const k in h) n += k.length + h[k].length + 4;
  return n;
}

function resolveGraph(o: SimOptions, rng: Rng): Graph {
  if (o.graph) return o.graph;
  if (o.graphFile) return loadEdgeList(o.graphFile);
  if (o.generate) return generate(o.generate, rng);
  throw new Error('runSimulation: give graph, graphFile or generate');
}

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

function peakRss(): number {
  return Math.round((process.resourceUsage().maxRSS / 1024) * 10) / 10;
}

/** Runs one simulation (see the scenario in the file comment). */
export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const wallStart = performance.now();
  const seed = options.seed ?? 1;
  const strategy = options.strategy ?? 'bounded';
  const offlineFrac = options.offline ?? 0.3;
  const movedFrac = options.moved ?? 0.1;
  const lookupsWanted = options.lookups ?? 1000;
  const durationMs = options.durationMs ?? HOUR;
  const progress = options.onProgress ?? (() => {});

  // Independent PRNG streams so that changing one phase does not shift the draws of another.
  const root = new Rng(seed);
  const graphRng = root.fork();
  const churnRng = root.fork();
  const keyRng = root.fork();
  const coreRng = root.fork();
  const scenarioRng = root.fork();
  const kadRng = root.fork();

  const g = resolveGraph(options, graphRng);
  const n = g.nodes;
  progress({ phase: 'setup', done: 0, total: n });

  /** The churn that applies from SETTLE_MS on (everyone is online during startup). */
  const online = new Uint8Array(n).fill(1);
  const offlineNodes = pickCount(churnRng, n, Math.round(offlineFrac * n), () => true);
  for (const v of offlineNodes) online[v] = 0;
  let onlineCount = 0;
  for (let v = 0; v < n; v++) onlineCount += online[v];
  const movedNodes = pickCount(churnRng, n, Math.round(movedFrac * onlineCount), (v) => online[v] === 1);
  const finalOnline = online.slice();

  // Lookup pairs: a moved target and one of its online contacts (graph neighbours).
  const pairs: [number, number][] = [];
  if (movedNodes.length > 0) {
    for (let tries = 0; pairs.length < lookupsWanted && tries < lookupsWanted * 20; tries++) {
      const t = movedNodes[scenarioRng.int(movedNodes.length)];
      const cands: number[] = [];
      for (let i = g.offsets[t]; i < g.offsets[t + 1]; i++) if (online[g.neighbours[i]]) cands.push(g.neighbours[i]);
      if (cands.length === 0) continue;
      pairs.push([cands[scenarioRng.int(cands.length)], t]);
    }
  }
  // A lookup counts when searcher and target share a path of online nodes OTHER than their direct
  // edge: that edge is what went stale, so a target whose only online contact is the searcher
  // cannot be found by anyone (a degree-1 node in ego-Facebook, say).
  const eligibleAt = pairs.map(([s, t]) => connectedAmong(g, online, s, t, true));
  const eligible = eligibleAt.filter(Boolean).length;

  const base = {
    strategy,
    seed,
    nodes: n,
    edges: g.edges,
    lookups: pairs.length,
  };
  const extra = {
    graph: g.source,
    offline: offlineFrac,
    moved: movedFrac,
    durationMs,
    onlineNodes: onlineCount,
    movedNodes: movedNodes.length,
    eligibleLookups: eligible,
  };

  if (strategy === 'kademlia') {
    return runKademlia({
      g,
      seed,
      online,
      movedNodes,
      pairs,
      eligibleAt,
      durationMs,
      kadRng,
      progress,
      wallStart,
      base,
      extra,
    });
  }

  // ------------------------------------------------------------------ Mesh: identities and contacts
  const coreInit: CoreInit =
    strategy === 'seed'
      ? { ...SEED_CONFIG }
      : {
          ...(options.referralRadius !== undefined ? { referralRadius: options.referralRadius } : {}),
          ...(options.searchRadius !== undefined ? { searchRadius: options.searchRadius } : {}),
        };
  Object.assign(coreInit, options.coreInit ?? {});
  const randomBytes = (k: number): Uint8Array => coreRng.bytes(k);
  const selves: SelfRecord[] = new Array(n);
  for (let v = 0; v < n; v++) {
    const kp = generateKeyPairs((k) => keyRng.bytes(k));
    selves[v] = { uuid: deriveUuid(kp.signPub, kp.boxPub), name: `n${v}`, ...kp, createdAt: 0 };
    if ((v & 4095) === 0) progress({ phase: 'setup', done: v, total: n });
  }
  const uuidIndex = new Map<string, number>();
  for (let v = 0; v < n; v++) uuidIndex.set(selves[v].uuid, v);
  const contactsOf: ContactRecord[][] = Array.from({ length: n }, () => []);
  for (let u = 0; u < n; u++) {
    for (let i = g.offsets[u]; i < g.offsets[u + 1]; i++) {
      const v = g.neighbours[i];
      if (v < u) continue;
      const secret = keyRng.bytes(32);
      contactsOf[u].push(contactRecord(selves[v], secret, initialAddress(v)));
      contactsOf[v].push(contactRecord(selves[u], secret, initialAddress(u)));
    }
  }
  const cores: (MeshCore | null)[] = new Array(n).fill(null);
  const address: string[] = new Array(n);
  const addrMap = new Map<string, number>();
  /** Old addresses of moved nodes → that node (for the RTT of a refused connection). */
  const vacated = new Map<string, number>();
  for (let v = 0; v < n; v++) {
    address[v] = initialAddress(v);
    addrMap.set(address[v], v);
    const snap: CoreSnapshot = {
      self: selves[v],
      addresses: [address[v]],
      contacts: contactsOf[v],
      referrals: [],
      invites: [],
      requests: [],
      outbox: [],
      deliveredIds: [],
    };
    cores[v] = new MeshCore(snap, { random: randomBytes }, coreInit, 0);
    contactsOf[v] = [];
  }

  // ------------------------------------------------------------------ the engine
  const q = new EventQueue<SimEvent>();
  const pending = new Map<number, PendingSend>();
  const timers: (Map<string, number> | null)[] = new Array(n).fill(null);
  let nextSid = 1;
  let timerGen = 1;
  let now = 0;
  let events = 0;
  /** Outstanding non-periodic events per tag (quiet detection). */
  const work = [0, 0, 0];
  let windowStart = SETTLE_MS;
  let windowEnd = SETTLE_MS + durationMs;
  const maint: Traffic = { messages: 0, bytes: 0 };
  const startup: Traffic = { messages: 0, bytes: 0 };
  const byTag: Traffic[] = [
    { messages: 0, bytes: 0 },
    { messages: 0, bytes: 0 },
    { messages: 0, bytes: 0 },
  ];
  const byKind: SimResult['messagesByKind'] = {};
  const drops: Record<string, number> = {};
  let nextCommandId = 1;

  const lat = (a: number, b: number): number => linkLatency(seed, a, b);

  const isWork = (e: { kind: number; tag: number }): boolean => !(e.kind === E_TIMER && e.tag === T_MAINT);
  const schedule = (e: Omit<SimEvent, 'seq'>): void => {
    if (isWork(e)) work[e.tag]++;
    q.push(e);
  };
  const ev = (t: number, kind: number, node: number, tag: number): Omit<SimEvent, 'seq'> => ({
    t,
    kind,
    node,
    tag,
    sid: 0,
    from: -1,
    status: 0,
    str: '',
    headers: null,
    body: null,
    command: null,
    timer: null,
  });

  const count = (tag: number, kind: string, bytes: number): void => {
    let bucket: 'maintenance' | 'startup' | 'move' | 'relocation' | 'other';
    if (tag === T_MAINT) {
      if (now < windowStart) {
        bucket = 'startup';
        startup.messages++;
        startup.bytes += bytes;
      } else if (now < windowEnd) {
        bucket = 'maintenance';
        maint.messages++;
        maint.bytes += bytes;
      } else bucket = 'other';
    } else {
      bucket = TAG_NAMES[tag] as 'move' | 'relocation';
      byTag[tag].messages++;
      byTag[tag].bytes += bytes;
    }
    const k = (byKind[kind] ??= { maintenance: 0, startup: 0, move: 0, relocation: 0, other: 0 });
    k[bucket]++;
  };

  // Lookup bookkeeping.
  let watchNode = -1;
  let watchTarget = '';
  let relocatedAt = -1;
  let deliveredAt = -1;
  let watchMessageId = '';

  const carryOut = (v: number, fx: Effect[], tag: number): void => {
    for (const e of fx) {
      switch (e.type) {
        case 'send': {
          const sid = nextSid++;
          const bytes = e.body.length + headerBytes(e.headers);
          count(tag, e.kind, bytes);
          const to = addrMap.get(e.address);
          if (to === undefined || to === v) {
            // Nobody listens there: connection refused after one round trip.
            const was = vacated.get(e.address) ?? v;
            const f = ev(now + 2 * lat(v, was), E_FAIL, v, tag);
            f.sid = e.requestId;
            f.str = 'CONNECT_FAILED';
            schedule(f);
            break;
          }
          pending.set(sid, { from: v, req: e.requestId, to, kind: e.kind });
          if (online[to]) {
            const r = ev(now + lat(v, to), E_REQUEST, to, tag);
            r.sid = sid;
            r.from = v;
            r.str = `${address[v].slice(0, address[v].lastIndexOf(':'))}:${EPHEMERAL_PORT}`;
            r.headers = e.headers;
            r.body = e.body;
            schedule(r);
          }
          const to2 = ev(now + e.timeoutMs, E_TIMEOUT, v, tag);
          to2.sid = sid;
          schedule(to2);
          break;
        }
        case 'respond': {
          const p = pending.get(e.requestId);
          count(tag, `${p?.kind ?? 'late'}:response`, e.body.length);
          if (!p) break; // the sender already timed out
          const r = ev(now + lat(v, p.from), E_RESPONSE, p.from, tag);
          r.sid = e.requestId;
          r.status = e.status;
          r.body = e.body;
          schedule(r);
          break;
        }
        case 'set-timer': {
          let m = timers[v];
          if (!m) m = timers[v] = new Map();
          const gen = timerGen++;
          const key = timerKey(e.timer);
          m.set(key, gen);
          // Periodic timers are maintenance whatever set them; the rest inherit the causal tag.
          const periodic = PERIODIC_TIMERS.includes(e.timer.kind);
          const t = ev(Math.max(e.at, now), E_TIMER, v, periodic ? T_MAINT : tag);
          t.sid = gen;
          t.str = key;
          t.timer = e.timer;
          schedule(t);
          break;
        }
        case 'clear-timer':
          timers[v]?.delete(timerKey(e.timer));
          break;
        case 'drop':
          drops[e.reason] = (drops[e.reason] ?? 0) + 1;
          break;
        case 'emit': {
          const d = e.data;
          if (v === watchNode) {
            if (d.event === 'relocated' && d.uuid === watchTarget && relocatedAt < 0) relocatedAt = now;
            if (d.event === 'message:state' && d.state === 'delivered' && d.id === watchMessageId && deliveredAt < 0)
              deliveredAt = now;
          }
          break;
        }
        case 'result':
          if (v === watchNode && e.ok && watchMessageId === '') {
            const val = e.value as { id?: string };
            if (typeof val.id === 'string') watchMessageId = val.id;
          }
          break;
        default:
          // persist / deliver: nothing to carry out in memory (the cores hold their own state).
          break;
      }
    }
  };

  const deliver = (v: number, event: CoreEvent, tag: number): void => {
    const core = cores[v];
    if (!core || !online[v]) return;
    carryOut(v, core.handle(event, now), tag);
  };

  const step = (e: SimEvent): void => {
    now = e.t;
    events++;
    if (isWork(e)) work[e.tag]--;
    switch (e.kind) {
      case E_REQUEST: {
        if (!pending.has(e.sid)) return; // the sender gave up before it arrived
        deliver(
          e.node,
          { type: 'request', requestId: e.sid, remote: e.str, headers: e.headers!, body: e.body! },
          e.tag,
        );
        return;
      }
      case E_RESPONSE: {
        const p = pending.get(e.sid);
        if (!p) return;
        pending.delete(e.sid);
        deliver(e.node, { type: 'response', requestId: p.req, status: e.status, body: e.body! }, e.tag);
        return;
      }
      case E_TIMEOUT: {
        const p = pending.get(e.sid);
        if (!p) return;
        pending.delete(e.sid);
        deliver(e.node, { type: 'send-failed', requestId: p.req, reason: 'TIMEOUT' }, e.tag);
        return;
      }
      case E_FAIL:
        deliver(e.node, { type: 'send-failed', requestId: e.sid, reason: e.str as TransportErrorCode }, e.tag);
        return;
      case E_TIMER: {
        const m = timers[e.node];
        if (!m || m.get(e.str) !== e.sid) return; // replaced or cleared
        m.delete(e.str);
        if (e.timer) deliver(e.node, { type: 'timer', timer: e.timer }, e.tag);
        return;
      }
      case E_COMMAND:
        deliver(e.node, { type: 'command', commandId: nextCommandId++, command: e.command! }, e.tag);
        return;
    }
  };

  let lastReport = 0;
  /** Runs events until `stop()` or the next event is after `until`. */
  const runUntil = (
    until: number,
    stop: () => boolean,
    phase: SimProgress['phase'],
    done: () => number,
    total: number,
  ): void => {
    while (q.size > 0 && !stop()) {
      const e = q.peek()!;
      if (e.t > until) break;
      step(q.pop()!);
      if (events - lastReport >= 20000) {
        lastReport = events;
        progress({ phase, done: done(), total });
      }
    }
    if (!stop() && until > now) now = until;
  };

  const command = (t: number, v: number, c: Command, tag: number): void => {
    const e = ev(t, E_COMMAND, v, tag);
    e.command = c;
    schedule(e);
  };

  // ------------------------------------------------------------------ phases
  // 2. startup: everyone online.
  online.fill(1);
  for (let v = 0; v < n; v++) command(scenarioRng.int(MINUTE), v, { kind: 'start' }, T_MAINT);
  runUntil(
    SETTLE_MS,
    () => false,
    'startup',
    () => Math.floor(now / 1000),
    SETTLE_MS / 1000,
  );
  // 3. churn, then the maintenance window
  online.set(finalOnline);
  windowStart = SETTLE_MS;
  windowEnd = SETTLE_MS + durationMs;
  runUntil(
    windowEnd,
    () => false,
    'maintenance',
    () => Math.floor((now - windowStart) / 1000),
    durationMs / 1000,
  );

  // 4. moves
  const moveStart = now;
  const oldAddress = new Map<number, string>();
  movedNodes.forEach((v, k) => {
    const fresh = movedAddress(k);
    oldAddress.set(v, address[v]);
    addrMap.delete(address[v]);
    vacated.set(address[v], v);
    address[v] = fresh;
    addrMap.set(fresh, v);
    command(moveStart + scenarioRng.int(10 * SECOND), v, { kind: 'address', addresses: [fresh] }, T_MOVE);
  });
  runUntil(
    moveStart + MOVE_PHASE_MAX_MS,
    () => work[T_MOVE] === 0,
    'moves',
    () => Math.floor((now - moveStart) / 1000),
    MOVE_PHASE_MAX_MS / 1000,
  );

  // 5. lookups
  const latencies: number[] = [];
  let successes = 0;
  for (let i = 0; i < pairs.length; i++) {
    const [s, t] = pairs[i];
    const sc = cores[s]!;
    const rec = sc.contactMap.get(selves[t].uuid);
    if (rec) {
      // The searcher missed the move (see scenario step 5).
      rec.address = oldAddress.get(t) ?? rec.address;
      rec.status = 'active';
    }
    watchNode = s;
    watchTarget = selves[t].uuid;
    watchMessageId = '';
    relocatedAt = -1;
    deliveredAt = -1;
    const t0 = now + 1;
    command(t0, s, { kind: 'send', to: selves[t].uuid, text: `lookup ${i}` }, T_RELOC);
    runUntil(
      t0 + LOOKUP_TIMEOUT_MS,
      () => deliveredAt >= 0,
      'lookups',
      () => i,
      pairs.length,
    );
    const at = relocatedAt >= 0 ? relocatedAt : deliveredAt;
    if ((at >= 0 || deliveredAt >= 0) && eligibleAt[i]) {
      successes++;
      latencies.push(at - t0);
    }
    watchNode = -1;
  }
  // Let the last lookups' traffic (referral spread after relocation) finish, for the totals.
  runUntil(
    now + MOVE_PHASE_MAX_MS,
    () => work[T_RELOC] === 0,
    'lookups',
    () => pairs.length,
    pairs.length,
  );

  // State per online node.
  let stateSum = 0;
  let stateMax = 0;
  for (let v = 0; v < n; v++) {
    const c = cores[v];
    if (!c || !online[v]) continue;
    const s = c.stateEntries();
    stateSum += s;
    if (s > stateMax) stateMax = s;
  }
  progress({ phase: 'done', done: 1, total: 1 });

  latencies.sort((a, b) => a - b);
  const lookups = pairs.length;
  const moves = movedNodes.length;
  const perLookup = (x: number): number => (lookups > 0 ? x / lookups : 0);
  const perMove = (x: number): number => (moves > 0 ? x / moves : 0);
  const hours = durationMs / HOUR;
  const cfg = cores.find((c) => c !== null)?.cfg;
  return {
    ...base,
    successRate: round(eligible > 0 ? successes / eligible : 0, 4),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    messagesPerRelocation: round(perLookup(byTag[T_RELOC].messages) + perMove(byTag[T_MOVE].messages)),
    bytesPerRelocation: round(perLookup(byTag[T_RELOC].bytes) + perMove(byTag[T_MOVE].bytes)),
    maintenanceMessagesPerNodeHour: round(onlineCount > 0 ? maint.messages / onlineCount / hours : 0),
    maintenanceBytesPerNodeHour: round(onlineCount > 0 ? maint.bytes / onlineCount / hours : 0),
    stateEntriesPerNode: { mean: round(onlineCount > 0 ? stateSum / onlineCount : 0), max: stateMax },
    wallSeconds: round((performance.now() - wallStart) / 1000, 1),
    peakRssMb: peakRss(),
    ...extra,
    referralRadius: cfg?.referralRadius ?? null,
    searchRadius: cfg?.searchRadius ?? null,
    successes,
    searchMessagesPerLookup: round(perLookup(byTag[T_RELOC].messages)),
    searchBytesPerLookup: round(perLookup(byTag[T_RELOC].bytes)),
    moveMessagesPerMove: round(perMove(byTag[T_MOVE].messages)),
    moveBytesPerMove: round(perMove(byTag[T_MOVE].bytes)),
    startupMessagesPerNode: round(onlineCount > 0 ? startup.messages / onlineCount : 0),
    messagesByKind: sortKeys(byKind),
    drops: sortKeys(drops),
    virtualSeconds: round(now / 1000, 1),
    events,
  };
}

function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

function sortKeys<T>(o: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of Object.keys(o).sort()) out[k] = o[k];
  return out;
}

function contactRecord(other: SelfRecord, secret: Uint8Array, address: string): ContactRecord {
  return {
    uuid: other.uuid,
    name: other.name,
    signPub: other.signPub,
    boxPub: other.boxPub,
    secret,
    address,
    status: 'active',
    lastSeen: 0,
    addedAt: 0,
    domain: null,
  };
}

interface KadRunInput {
  g: Graph;
  seed: number;
  online: Uint8Array;
  movedNodes: Int32Array;
  pairs: [number, number][];
  /** Per lookup: searcher and target share an online path besides their direct edge. */
  eligibleAt: boolean[];
  durationMs: number;
  kadRng: Rng;
  progress: (p: SimProgress) => void;
  wallStart: number;
  base: { strategy: Strategy; seed: number; nodes: number; edges: number; lookups: number };
  extra: {
    graph: string;
    offline: number;
    moved: number;
    durationMs: number;
    onlineNodes: number;
    movedNodes: number;
    eligibleLookups: number;
  };
}

/** The Kademlia baseline on the same graph membership, churn and lookup pairs (see kademlia.ts). */
function runKademlia(x: KadRunInput): SimResult {
  const { g, seed, online, movedNodes, pairs, kadRng, progress } = x;
  const n = g.nodes;
  const lat = (a: number, b: number): number => linkLatency(seed, a, b);
  progress({ phase: 'setup', done: 0, total: 1 });
  const kad = new KademliaNetwork(n, kadRng.fork(), { online, latency: lat });
  // Maintenance: a seeded sample of online nodes each run one hour of refresh + republish.
  const onlineList: number[] = [];
  for (let v = 0; v < n; v++) if (online[v]) onlineList.push(v);
  const sample = onlineList.length <= KAD_MAINTENANCE_SAMPLE ? onlineList : pickSample(kadRng, onlineList);
  let mMsgs = 0;
  let mBytes = 0;
  sample.forEach((v, i) => {
    const r = kad.maintenanceHour(v, kadRng);
    mMsgs += r.messages;
    mBytes += r.bytes;
    if ((i & 31) === 0) progress({ phase: 'maintenance', done: i, total: sample.length });
  });
  // Moves: each moved node re-publishes its record.
  let moveMsgs = 0;
  let moveBytes = 0;
  movedNodes.forEach((v, i) => {
    const r = kad.publish(v);
    moveMsgs += r.messages;
    moveBytes += r.bytes;
    if ((i & 63) === 0) progress({ phase: 'moves', done: i, total: movedNodes.length });
  });
  // Lookups: the stale direct attempt (refused after one RTT), FIND_VALUE, then the message itself.
  let sMsgs = 0;
  let sBytes = 0;
  let successes = 0;
  const latencies: number[] = [];
  pairs.forEach(([s, t], i) => {
    sMsgs += 1;
    sBytes += KAD_APP_MESSAGE_BYTES;
    const refused = 2 * lat(s, t);
    const r = kad.findValue(s, t);
    sMsgs += r.messages;
    sBytes += r.bytes;
    if (r.found && online[t]) {
      if (x.eligibleAt[i]) successes++;
      latencies.push(refused + r.timeMs);
      sMsgs += 2;
      sBytes += KAD_APP_MESSAGE_BYTES + KAD_RESPONSE_BYTES;
    }
    if ((i & 63) === 0) progress({ phase: 'lookups', done: i, total: pairs.length });
  });
  let stateSum = 0;
  let stateMax = 0;
  for (const v of onlineList) {
    const s = kad.stateEntries(v);
    stateSum += s;
    if (s > stateMax) stateMax = s;
  }
  progress({ phase: 'done', done: 1, total: 1 });
  latencies.sort((a, b) => a - b);
  const lookups = pairs.length;
  const moves = movedNodes.length;
  const perLookup = (v: number): number => (lookups > 0 ? v / lookups : 0);
  const perMove = (v: number): number => (moves > 0 ? v / moves : 0);
  const ns = Math.max(1, sample.length);
  void KAD_REQUEST_BYTES;
  return {
    ...x.base,
    successRate: round(x.extra.eligibleLookups > 0 ? successes / x.extra.eligibleLookups : 0, 4),
    latencyMs: { p50: percentile(latencies, 50), p95: percentile(latencies, 95), p99: percentile(latencies, 99) },
    messagesPerRelocation: round(perLookup(sMsgs) + perMove(moveMsgs)),
    bytesPerRelocation: round(perLookup(sBytes) + perMove(moveBytes)),
    maintenanceMessagesPerNodeHour: round(mMsgs / ns),
    maintenanceBytesPerNodeHour: round(mBytes / ns),
    stateEntriesPerNode: { mean: round(onlineList.length > 0 ? stateSum / onlineList.length : 0), max: stateMax },
    wallSeconds: round((performance.now() - x.wallStart) / 1000, 1),
    peakRssMb: peakRss(),
    ...x.extra,
    referralRadius: null,
    searchRadius: null,
    successes,
    searchMessagesPerLookup: round(perLookup(sMsgs)),
    searchBytesPerLookup: round(perLookup(sBytes)),
    moveMessagesPerMove: round(perMove(moveMsgs)),
    moveBytesPerMove: round(perMove(moveBytes)),
    startupMessagesPerNode: 0,
    messagesByKind: {},
    drops: {},
    virtualSeconds: 0,
    events: 0,
  };
}

function pickSample(rng: Rng, list: number[]): number[] {
  const a = [...list];
  for (let i = 0; i < KAD_MAINTENANCE_SAMPLE; i++) {
    const j = i + rng.int(a.length - i);
    const t = a[i];
    a[i] = a[j];
    a[j] = t;
  }
  return a.slice(0, KAD_MAINTENANCE_SAMPLE).sort((p, q) => p - q);
}
