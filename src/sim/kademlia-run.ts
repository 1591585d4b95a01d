/**
 * The Kademlia baseline (kademlia.ts) on the same plan as a Mesh run: same graph membership, churn
 * and lookup pairs. It is a model, not a network of cores, so it does not use the engine.
 */
import { KAD_RESPONSE_BYTES, KademliaNetwork } from './kademlia.ts';
import type { SimPlan } from './plan.ts';
import type { Rng } from './rng.ts';
import { latencySummary, linkLatency, peakRss, round, type SimResult } from './sim-types.ts';

/** Nodes sampled for Kademlia's maintenance estimate. */
const KAD_MAINTENANCE_SAMPLE = 256;
/** Size of the application message in the Kademlia baseline: about what a Mesh message request is. */
const KAD_APP_MESSAGE_BYTES = 350;

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

/** Runs the Kademlia baseline on `x`'s plan. */
export function runKademlia(x: SimPlan): SimResult {
  const { g, seed, online, movedNodes, pairs, progress } = x;
  const kadRng = x.rng.kad;
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
  const lookups = pairs.length;
  const moves = movedNodes.length;
  const perLookup = (v: number): number => (lookups > 0 ? v / lookups : 0);
  const perMove = (v: number): number => (moves > 0 ? v / moves : 0);
  const ns = Math.max(1, sample.length);
  return {
    ...x.base,
    successRate: round(x.extra.eligibleLookups > 0 ? successes / x.extra.eligibleLookups : 0, 4),
    latencyMs: latencySummary(latencies),
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
    digests: null,
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
