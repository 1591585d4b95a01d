/**
 * The simulator's scenario as data: a list of phases, run in order by a small interpreter. Each
 * phase acts on the network only as the world would — commands to nodes, nodes leaving the network,
 * new addresses, restarts — through the engine (engine.ts).
 *
 * 1. startup: every node gets `start` at a random time in the first minute (announces to every
 *    contact) and the network settles. Everyone is online here on purpose: a node that starts while
 *    contacts are away searches for each of them, a storm that says nothing about steady state.
 *    Startup traffic is reported as `startupMessagesPerNode`, not as maintenance.
 * 2. churn: the plan's offline nodes go silent: their contacts still hold their addresses and requests
 *    to them time out (a silent host; reason TIMEOUT). Their contacts notice at their next announce.
 * 3. maintenance: periodic work is measured for `durationMs` → per online node-hour.
 * 4. moves: each moved node gets a fresh address "11.a.b.c:7575" (spread over `spreadMs`); the old
 *    address is then bound to nobody (a request there is refused after one RTT). Each gets the
 *    `address` command: it announces to its contacts, which update it and spread referrals. All the
 *    traffic this causes (causally tagged) is the move cost.
 * 5. lookups (sequential by default; in waves of up to N with `--lookup-concurrency N`): the searcher must have missed the target's move: it restarts from its
 *    stored snapshot in which its record of the target still holds the old address (as if it had
 *    been away during the move and restored that record), is asked to `send` to the target, and runs
 *    `start` as a restarted node does. The core tries the stale address (refused), searches through
 *    contacts, and emits `relocated`; the lookup ends when the message is delivered or after
 *    `timeoutMs`. Latency = command → `relocated` (or → delivered if the target reached the searcher
 *    first). Traffic causally descending from the `send` is the search cost. A wave (takeWave) starts
 *    its lookups at the same instant, each with its own searcher and target, and ends when all have
 *    delivered or after `timeoutMs`: failed lookups wait out their timeout together instead of one
 *    after another (the background announces and sweeps of all nodes run on meanwhile), at the price
 *    of concurrent searches sharing the network's caches and budgets. A pair that shares a node with
 *    the wave waits for a later one (takeWave), so lookups may run out of their drawn order.
 * 6. drain: the last lookups' traffic (referral spread after relocation) finishes, for the totals.
 */
import { MINUTE, SECOND } from '../protocol/constants.ts';
import type { Accounting } from './accounting.ts';
import { T_MAINT, T_MOVE, T_RELOC } from './accounting.ts';
import type { Engine, EngineCore } from './engine.ts';
import type { LookupWatch, WatchedLookup } from './lookup-watch.ts';
import type { SimPlan } from './plan.ts';
import { LOOKUP_TIMEOUT_MS, MOVE_PHASE_MAX_MS, movedAddress, SETTLE_MS, type SimProgress } from './sim-types.ts';

/** One phase of a scenario. */
export type Phase =
  | { phase: 'startup'; startWithinMs: number; untilMs: number }
  | { phase: 'churn' }
  | { phase: 'maintenance' }
  | { phase: 'moves'; spreadMs: number; maxMs: number }
  | { phase: 'lookups'; timeoutMs: number }
  | { phase: 'drain'; maxMs: number };

/** The Mesh scenario of DESIGN.md §8 (see the file comment). */
export const MESH_SCENARIO: readonly Phase[] = [
  { phase: 'startup', startWithinMs: MINUTE, untilMs: SETTLE_MS },
  { phase: 'churn' },
  { phase: 'maintenance' },
  { phase: 'moves', spreadMs: 10 * SECOND, maxMs: MOVE_PHASE_MAX_MS },
  { phase: 'lookups', timeoutMs: LOOKUP_TIMEOUT_MS },
  { phase: 'drain', maxMs: MOVE_PHASE_MAX_MS },
];

/** What the phases act on. */
export interface MeshWorld {
  engine: Engine<EngineCore>;
  plan: SimPlan;
  acc: Accounting;
  watch: LookupWatch;
  /** The uuid of node `v`. */
  uuidOf(v: number): string;
  /** A process restart of `s` from its stored snapshot, its record of `t` rolled back to `oldAddress` (active). */
  restartMissingMove(s: number, t: number, oldAddress: string): void;
  /** Addresses moved nodes had before their move. */
  oldAddress: Map<number, string>;
  /** Latencies of successful lookups, ms. */
  latencies: number[];
  successes: number;
}

type Runner<P extends Phase> = (w: MeshWorld, p: P) => void;

/** Progress every few thousand events, in seconds of the phase (or lookups done). */
function ticker(w: MeshWorld, phase: SimProgress['phase'], from: number, total: number, done?: () => number) {
  return () => w.plan.progress({ phase, done: done ? done() : Math.floor((w.engine.now - from) / 1000), total });
}

const startup: Runner<Extract<Phase, { phase: 'startup' }>> = (w, p) => {
  const { engine, plan } = w;
  for (let v = 0; v < engine.size; v++)
    engine.scheduleCommand(engine.now + plan.rng.scenario.int(p.startWithinMs), v, { kind: 'start' }, T_MAINT);
  // Maintenance is measured from the end of startup.
  w.acc.openWindow(p.untilMs, p.untilMs + plan.durationMs);
  engine.runUntil(p.untilMs, undefined, ticker(w, 'startup', 0, p.untilMs / 1000));
};

const churn: Runner<Extract<Phase, { phase: 'churn' }>> = (w) => {
  // Nodes beyond the graph (peers with a domain, --domain-peers) stay online.
  for (let v = 0; v < w.engine.size; v++) if (w.plan.online[v] === 0) w.engine.setOnline(v, false);
};

const maintenance: Runner<Extract<Phase, { phase: 'maintenance' }>> = (w) => {
  const { engine, acc } = w;
  engine.runUntil(acc.windowEnd, undefined, ticker(w, 'maintenance', acc.windowStart, w.plan.durationMs / 1000));
};

const moves: Runner<Extract<Phase, { phase: 'moves' }>> = (w, p) => {
  const { engine, plan } = w;
  const moveStart = engine.now;
  plan.movedNodes.forEach((v, k) => {
    const fresh = movedAddress(k);
    w.oldAddress.set(v, engine.address(v));
    engine.setAddress(v, fresh);
    const at = moveStart + plan.rng.scenario.int(p.spreadMs);
    engine.scheduleCommand(at, v, { kind: 'address', addresses: [fresh] }, T_MOVE);
  });
  const done = () => engine.pendingWork(T_MOVE) === 0;
  engine.runUntil(moveStart + p.maxMs, done, ticker(w, 'moves', moveStart, p.maxMs / 1000));
};

/**
 * Takes the next wave of lookups out of `pending` (pair indexes, in order): up to `concurrency`
 * pairs, in order, skipping — and leaving pending for a later wave — a pair that shares a node (as
 * searcher or target) with one already in the wave: each searcher restarts and is watched for one
 * lookup at a time, and no lookup's target is another's searcher or target. Concurrency 1 takes the
 * pairs one by one in order (the sequential run).
 */
export function takeWave(
  pairs: readonly (readonly [number, number])[],
  pending: number[],
  concurrency: number,
): number[] {
  const used = new Set<number>();
  const wave: number[] = [];
  const rest: number[] = [];
  for (const k of pending) {
    const [s, t] = pairs[k];
    if (wave.length < concurrency && !used.has(s) && !used.has(t)) {
      used.add(s);
      used.add(t);
      wave.push(k);
    } else rest.push(k);
  }
  pending.length = 0;
  for (const k of rest) pending.push(k);
  return wave;
}

const lookups: Runner<Extract<Phase, { phase: 'lookups' }>> = (w, p) => {
  const { engine, plan, watch } = w;
  const pairs = plan.pairs;
  const pending = pairs.map((_, k) => k);
  let done = 0;
  const tick = ticker(w, 'lookups', 0, pairs.length, () => done);
  while (pending.length > 0) {
    // Sequential (concurrency 1, the default): each lookup starts after the last one ended. A wave
    // starts its lookups together and ends when all have delivered or the timeout passed.
    const wave = takeWave(pairs, pending, plan.lookupConcurrency);
    const t0 = engine.now + 1;
    const watched: WatchedLookup[] = [];
    for (const k of wave) {
      const [s, t] = pairs[k];
      const target = w.uuidOf(t);
      w.restartMissingMove(s, t, w.oldAddress.get(t) ?? engine.address(t));
      watched.push(watch.begin(s, target));
      engine.scheduleCommand(t0, s, { kind: 'send', to: target, text: `lookup ${k}` }, T_RELOC);
      // A restarted node runs `start` (announce to contacts, retry the outbox): queued after the
      // send, so the search is the lookup's, and charged to periodic work.
      engine.scheduleCommand(t0, s, { kind: 'start' }, T_MAINT);
    }
    const n = wave.length;
    engine.runUntil(t0 + p.timeoutMs, () => watch.delivered >= n, tick);
    wave.forEach((k, j) => {
      const l = watched[j];
      const at = l.relocatedAt >= 0 ? l.relocatedAt : l.deliveredAt;
      if (at >= 0 && plan.eligibleAt[k]) {
        w.successes++;
        w.latencies.push(at - t0);
      }
    });
    watch.end();
    done += n;
  }
};

const drain: Runner<Extract<Phase, { phase: 'drain' }>> = (w, p) => {
  const { engine, plan } = w;
  const done = () => engine.pendingWork(T_RELOC) === 0;
  engine.runUntil(
    engine.now + p.maxMs,
    done,
    ticker(w, 'lookups', 0, plan.pairs.length, () => plan.pairs.length),
  );
};

const RUNNERS: { [K in Phase['phase']]: Runner<Extract<Phase, { phase: K }>> } = {
  startup,
  churn,
  maintenance,
  moves,
  lookups,
  drain,
};

/** Runs `phases` in order on `w`. */
export function runScenario(w: MeshWorld, phases: readonly Phase[]): void {
  for (const p of phases) (RUNNERS[p.phase] as Runner<Phase>)(w, p);
}
