/**
 * A Mesh run: one `MeshCore` per graph vertex (the class real nodes run) on the engine, the
 * scenario's phases (scenario.ts), then the result document. Cores are built from snapshots — one
 * contact pair per edge, keys from the seeded PRNG, one shared secret per edge, address
 * "10.a.b.c:7575" — and afterwards change only through events.
 */
import { deriveUuid, generateKeyPairs } from '../crypto/index.ts';
import { type CoreInit, SEED_CONFIG } from '../protocol/config.ts';
import { HOUR } from '../protocol/constants.ts';
import { type CoreCrypto, REAL_CRYPTO } from '../protocol/core-crypto.ts';
import { type CoreSnapshot, MeshCore } from '../protocol/node.ts';
import type { ContactRecord, PersistOp, SelfRecord } from '../protocol/types.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { Accounting, headerBytes, isPeriodicTimer, T_MOVE, T_RELOC, TAG_COUNT } from './accounting.ts';
import { Engine } from './engine.ts';
import { keyPairsOf } from './key-pool.ts';
import { LookupWatch } from './lookup-watch.ts';
import type { SimPlan } from './plan.ts';
import { MESH_SCENARIO, type MeshWorld, runScenario } from './scenario.ts';
import { SIM_CRYPTO } from './sim-crypto.ts';
import {
  initialAddress,
  latencySummary,
  linkLatency,
  peakRss,
  round,
  type SimOptions,
  type SimResult,
  sortKeys,
} from './sim-types.ts';

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

function snapshotOf(self: SelfRecord, address: string, contacts: ContactRecord[]): CoreSnapshot {
  return {
    self,
    addresses: [address],
    contacts,
    referrals: [],
    invites: [],
    requests: [],
    outbox: [],
    deliveredIds: [],
  };
}

/** The core options of a strategy. */
function coreInitOf(options: SimOptions): CoreInit {
  const init: CoreInit =
    options.strategy === 'seed'
      ? { ...SEED_CONFIG }
      : {
          ...(options.referralRadius !== undefined ? { referralRadius: options.referralRadius } : {}),
          ...(options.searchRadius !== undefined ? { searchRadius: options.searchRadius } : {}),
        };
  return Object.assign(init, options.coreInit ?? {});
}

/**
 * Copies `k` into the next 32 bytes of `slab` and returns a view of them: a view of a shared buffer
 * costs ~100 bytes of heap, a 32-byte array of its own ~230 (10⁶ nodes hold 4 keys each, and every
 * edge a secret).
 */
function packed(slab: Uint8Array, at: number, k: Uint8Array): Uint8Array {
  slab.set(k, at);
  return slab.subarray(at, at + 32);
}

/** Identities of all nodes and their contact lists, one pair of records per edge. */
async function identities(
  plan: SimPlan,
  addressOf: readonly string[],
): Promise<{ selves: SelfRecord[]; contactsOf: ContactRecord[][] }> {
  const { g } = plan;
  const keyRng = plan.rng.key;
  const n = g.nodes;
  const selves: SelfRecord[] = new Array(n);
  // The four keys of every node are views into one slab (~100 bytes of heap a key instead of ~230).
  const { keys: keySlab, uuids } = await keyPairsOf(keyRng, n);
  for (let v = 0; v < n; v++) {
    const o = 128 * v;
    selves[v] = {
      uuid: uuids[v],
      name: `n${v}`,
      signPub: keySlab.subarray(o, o + 32),
      signPriv: keySlab.subarray(o + 32, o + 64),
      boxPub: keySlab.subarray(o + 64, o + 96),
      boxPriv: keySlab.subarray(o + 96, o + 128),
      createdAt: 0,
    };
  }
  const contactsOf: ContactRecord[][] = Array.from({ length: n }, () => []);
  const secretSlab = new Uint8Array(32 * g.edges);
  let e = 0;
  for (let u = 0; u < n; u++) {
    for (let i = g.offsets[u]; i < g.offsets[u + 1]; i++) {
      const v = g.neighbours[i];
      if (v < u) continue;
      const secret = packed(secretSlab, 32 * e++, keyRng.bytes(32));
      contactsOf[u].push(contactRecord(selves[v], secret, addressOf[v]));
      contactsOf[v].push(contactRecord(selves[u], secret, addressOf[u]));
    }
  }
  return { selves, contactsOf };
}

/** Domain name of the i-th simulated peer with a domain. */
const domainOf = (i: number): string => `dp${i}.mesh.test`;

/**
 * `--domain-peers N`: N peers with a domain after the graph's nodes (ids n … n+N−1, keys drawn after
 * the graph's), always online; every node bootstrapped to each (a contact pair per node and peer).
 */
function addDomainPeers(
  plan: SimPlan,
  count: number,
  selves: SelfRecord[],
  contactsOf: ContactRecord[][],
  addressOf: readonly string[],
): void {
  const n = plan.g.nodes;
  const keyRng = plan.rng.key;
  for (let i = 0; i < count; i++) {
    const kp = generateKeyPairs((k) => keyRng.bytes(k));
    const peer: SelfRecord = { uuid: deriveUuid(kp.signPub, kp.boxPub), name: domainOf(i), ...kp, createdAt: 0 };
    selves.push(peer);
    const mine: ContactRecord[] = [];
    for (let v = 0; v < n; v++) {
      const secret = keyRng.bytes(32);
      contactsOf[v].push({ ...contactRecord(peer, secret, addressOf[n + i]), domain: domainOf(i) });
      mine.push(contactRecord(selves[v], secret, addressOf[v]));
    }
    contactsOf.push(mine);
  }
}

/** Runs the Mesh scenario on `plan`. */
export async function runMesh(plan: SimPlan, options: SimOptions): Promise<SimResult> {
  const n = plan.g.nodes;
  const coreInit = coreInitOf(options);
  const coreRng = plan.rng.core;
  const random = (k: number): Uint8Array => coreRng.bytes(k);
  const crypto: CoreCrypto = options.realCrypto ? REAL_CRYPTO : SIM_CRYPTO;
  // One string per address, shared by every record that holds it.
  const domainPeers = options.domainPeers ?? 0;
  const addressOf = Array.from({ length: n + domainPeers }, (_, v) => initialAddress(v));
  const { selves, contactsOf } = await identities(plan, addressOf);
  if (domainPeers > 0) addDomainPeers(plan, domainPeers, selves, contactsOf, addressOf);
  const acc = new Accounting();
  const watch = new LookupWatch();
  // Only searchers restart, so only they keep a store (memory per node stays what the cores hold).
  const stores: (MemoryStore | undefined)[] = new Array(n);
  for (const [s] of plan.pairs) stores[s] ??= new MemoryStore();

  const engine: Engine<MeshCore> = new Engine<MeshCore>(
    {
      rng: plan.rng.engine,
      latency: (a, b) => linkLatency(plan.seed, a, b),
      offline: 'silent',
      tags: TAG_COUNT,
    },
    {
      onSend: (_v, e, tag) => acc.count(engine.now, tag, e.kind, e.body.length + headerBytes(e.headers)),
      onRespond: (_v, e, kind, tag) => acc.count(engine.now, tag, `${kind ?? 'late'}:response`, e.body.length),
      onEffect: (v, e) => {
        if (e.type === 'drop') acc.drop(e.reason);
        else if (e.type === 'persist') stores[v]?.apply(e.ops);
        else watch.onEffect(v, e, engine.now);
      },
      periodicTimer: isPeriodicTimer,
    },
  );
  for (let v = 0; v < n + domainPeers; v++) {
    const address = addressOf[v];
    const store = stores[v];
    if (store) {
      const ops: PersistOp[] = [{ op: 'self:put', self: selves[v] }];
      for (const c of contactsOf[v]) ops.push({ op: 'contact:put', contact: c });
      store.apply(ops); // the store copies: the core's records stay its own
    }
    const init = v < n ? coreInit : { ...coreInit, isPublic: true, acceptAll: true };
    engine.addNode(new MeshCore(snapshotOf(selves[v], address, contactsOf[v]), { random, crypto }, init, 0), address);
    contactsOf[v] = [];
  }

  const world: MeshWorld = {
    engine,
    plan,
    acc,
    watch,
    uuidOf: (v) => selves[v].uuid,
    restartMissingMove: (s, t, oldAddress) => {
      const st = stores[s]!;
      const target = selves[t].uuid;
      const snap: CoreSnapshot = {
        self: st.getSelf()!,
        addresses: [engine.address(s)],
        contacts: st
          .listContacts()
          .map((c) => (c.uuid === target ? { ...c, address: oldAddress, status: 'active' as const } : c)),
        referrals: st.listReferrals(),
        invites: st.listInvites(),
        requests: st.listRequests(),
        outbox: st.listOutbox(),
        deliveredIds: st.listDelivered(),
      };
      engine.restart(s, new MeshCore(snap, { random, crypto }, coreInit, engine.now));
    },
    oldAddress: new Map(),
    latencies: [],
    successes: 0,
  };
  runScenario(world, MESH_SCENARIO);
  return meshResult(world, engine, plan);
}

/** The result document of a finished Mesh run. */
function meshResult(w: MeshWorld, engine: Engine<MeshCore>, plan: SimPlan): SimResult {
  const acc = w.acc;
  const { onlineCount, durationMs } = plan;
  let stateSum = 0;
  let stateMax = 0;
  // The graph's nodes only: peers with a domain are infrastructure, not members.
  for (let v = 0; v < plan.g.nodes; v++) {
    if (!engine.isOnline(v)) continue;
    const s = engine.core(v).stateEntries();
    stateSum += s;
    if (s > stateMax) stateMax = s;
  }
  plan.progress({ phase: 'done', done: 1, total: 1 });
  const lookups = plan.pairs.length;
  const moves = plan.movedNodes.length;
  const perLookup = (x: number): number => (lookups > 0 ? x / lookups : 0);
  const perMove = (x: number): number => (moves > 0 ? x / moves : 0);
  const perOnline = (x: number): number => (onlineCount > 0 ? x / onlineCount : 0);
  const hours = durationMs / HOUR;
  const reloc = acc.byTag[T_RELOC];
  const move = acc.byTag[T_MOVE];
  const cfg = engine.size > 0 ? engine.core(0).cfg : undefined;
  return {
    ...plan.base,
    successRate: round(plan.eligible > 0 ? w.successes / plan.eligible : 0, 4),
    latencyMs: latencySummary(w.latencies),
    messagesPerRelocation: round(perLookup(reloc.messages) + perMove(move.messages)),
    bytesPerRelocation: round(perLookup(reloc.bytes) + perMove(move.bytes)),
    maintenanceMessagesPerNodeHour: round(perOnline(acc.maint.messages) / hours),
    maintenanceBytesPerNodeHour: round(perOnline(acc.maint.bytes) / hours),
    stateEntriesPerNode: { mean: round(perOnline(stateSum)), max: stateMax },
    wallSeconds: round((performance.now() - plan.wallStart) / 1000, 1),
    peakRssMb: peakRss(),
    ...plan.extra,
    referralRadius: cfg?.referralRadius ?? null,
    searchRadius: cfg?.searchRadius ?? null,
    digests: cfg?.digests ?? null,
    successes: w.successes,
    searchMessagesPerLookup: round(perLookup(reloc.messages)),
    searchBytesPerLookup: round(perLookup(reloc.bytes)),
    moveMessagesPerMove: round(perMove(move.messages)),
    moveBytesPerMove: round(perMove(move.bytes)),
    startupMessagesPerNode: round(perOnline(acc.startup.messages)),
    messagesByKind: sortKeys(acc.byKind),
    drops: sortKeys(acc.drops),
    virtualSeconds: round(engine.now / 1000, 1),
    events: engine.events,
  };
}
