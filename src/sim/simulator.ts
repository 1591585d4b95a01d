/**
 * The Mesh simulator (DESIGN.md §6, §8): many `MeshCore`s — the very class real nodes run, imported
 * from src/protocol/node.ts, not a copy — on the one discrete-event engine (engine.ts, shared with
 * the testnet) with a latency model; or the Kademlia model (kademlia.ts) as the peer baseline on the
 * same graph, churn and pairs.
 *
 * ```ts
 * const r = await runSimulation({ graph: loadEdgeList('ego.edges'), seed: 1, strategy: 'bounded',
 *   offline: 0.3, moved: 0.1, lookups: 1000 });
 * console.log(r.successRate, r.messagesPerRelocation);
 * ```
 *
 * One run: the plan (plan.ts: graph, exactly round(f·N) offline nodes, round(moved · online) movers,
 * lookup pairs), then the scenario's phases (scenario.ts: startup, churn, maintenance, moves,
 * lookups, drain) for Mesh, with traffic charged causally (accounting.ts).
 * messagesPerRelocation = search messages per lookup + move messages per moved node (every
 * relocation needs one move; amortising the move's spread over the moves keeps strategies that push
 * referrals eagerly honest against those that search lazily). Same for bytes.
 * successRate = successes / lookups whose target is online and joined to the searcher by online
 * nodes other than through their (stale) direct edge.
 */
import { MeshCore } from '../protocol/node.ts';
import { runKademlia } from './kademlia-run.ts';
import { runMesh } from './mesh-run.ts';
import { makePlan } from './plan.ts';
import type { SimOptions, SimResult } from './sim-types.ts';

export { Engine } from './engine.ts';
export { MESH_SCENARIO, type Phase } from './scenario.ts';
export {
  initialAddress,
  LATENCY_MAX_MS,
  LATENCY_MIN_MS,
  LOOKUP_TIMEOUT_MS,
  linkLatency,
  MOVE_PHASE_MAX_MS,
  percentile,
  SETTLE_MS,
  type SimOptions,
  type SimProgress,
  type SimResult,
  type Strategy,
  type Traffic,
} from './sim-types.ts';

/** The core class the simulator drives: the one real nodes run (tests assert the identity). */
export const SIM_CORE_CLASS = MeshCore;

/** Runs one simulation (see the file comment). */
export async function runSimulation(options: SimOptions): Promise<SimResult> {
  const plan = makePlan(options, performance.now());
  return plan.strategy === 'kademlia' ? runKademlia(plan) : runMesh(plan, options);
}
