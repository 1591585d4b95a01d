/**
 * A virtual-time network of protocol cores for tests and benchmarks, on the one discrete-event
 * engine (src/sim/engine.ts) the simulator also runs on: every effect is carried out in memory,
 * time jumps to the next event. Deterministic for a given seed. An offline node refuses connections
 * (a closed port); every link has the same latency.
 *
 *   const net = createTestnet(3, { seed: 1 });
 *   net.connect(0, 1); net.connect(1, 2);
 *   net.startAll(); net.run();
 *   const id = net.command(0, { kind: 'send', to: net.nodes[1].uuid, text: 'hi' });
 *   net.run(); // net.nodes[1].inbox has the message
 */
import { deriveUuid, generateKeyPairs } from '../crypto/index.ts';
import type { CoreInit } from '../protocol/config.ts';
import type { AppEvent, Command, CoreEvent, DropReason, Effect } from '../protocol/events.ts';
import { type CoreSnapshot, MeshCore } from '../protocol/node.ts';
import type { ContactRecord, InboxRecord, SelfRecord } from '../protocol/types.ts';
import { Engine } from '../sim/engine.ts';
import { Rng } from '../sim/rng.ts';
import { MemoryStore } from '../store/memory-store.ts';

/** The engine's seeded PRNG (src/sim/rng.ts), for tests that need random bytes: `seededRandom(7).bytes(32)`. */
export function seededRandom(seed: number): Rng {
  return new Rng(seed);
}

/** One node of the testnet (address, online and core are the engine's view of it). */
export interface TestNode {
  index: number;
  uuid: string;
  self: SelfRecord;
  readonly address: string;
  readonly online: boolean;
  readonly core: MeshCore;
  store: MemoryStore;
  inbox: InboxRecord[];
  events: AppEvent[];
  drops: { reason: DropReason; detail?: string }[];
  results: Map<number, Extract<Effect, { type: 'result' }>>;
  /** The node's pending timers (timer key → engine generation). */
  readonly timers: ReadonlyMap<string, number>;
}

/** Options of a testnet. */
export interface TestnetInit {
  seed?: number;
  /** One-way latency per message, ms. @default 20 */
  latencyMs?: number;
  /** Probability that a request is lost (the sender sees its timeout). @default 0 */
  loss?: number;
  /** Protocol options for every core. */
  core?: CoreInit;
  /** Start time, unix ms. @default 1_767_225_600_000 */
  startAt?: number;
  /** Per-node protocol options over `core` (e.g. a peer with a domain: `{ isPublic: true }`). */
  coreOf?: (index: number) => CoreInit | undefined;
}

/**
 * How a node's router maps its punch port (docs/PROTOCOL.md §17), for `punch` effects: `preserve`
 * keeps the port for every destination (the punch works when both ends punch in time), `random` picks
 * a new port per destination (symmetric NAT: the endpoint a contact observed is never the one the
 * peer's SYNs reach, so the punch fails).
 */
export type TestNat = 'preserve' | 'random';

/** A `punch` effect waiting for the other end's. */
interface PunchIntent {
  to: number;
  attempt: string;
  remotes: string[];
  at: number;
  timeoutMs: number;
  settled: boolean;
}

/** A virtual-time network of cores. */
export class Testnet {
  readonly nodes: TestNode[] = [];
  /** Sends by effect kind. */
  readonly sent: Record<string, number> = {};
  readonly latencyMs: number;
  readonly init: TestnetInit;
  /** The engine underneath (shared with the simulator). */
  readonly engine: Engine<MeshCore>;
  /** Router behaviour per node index for hole punching. @default 'preserve' */
  readonly nat = new Map<number, TestNat>();
  /** Pairs "i-j" (i < j) whose last punch opened a direct connection. */
  readonly direct = new Set<string>();
  /** `punch` effects by node index, with their time (`at`) and role. */
  readonly punchLog: { node: number; to: number; at: number; role: 'client' | 'server' }[] = [];
  #punching = new Map<number, PunchIntent>();
  #coresMade = 0;

  constructor(n: number, init: TestnetInit = {}) {
    this.init = init;
    this.latencyMs = init.latencyMs ?? 20;
    const latency = this.latencyMs;
    this.engine = new Engine<MeshCore>(
      {
        seed: init.seed ?? 1,
        startAt: init.startAt ?? 1_767_225_600_000,
        latency: () => latency,
        loss: init.loss ?? 0,
        offline: 'refuse',
      },
      {
        onSend: (_v, e) => {
          this.sent[e.kind] = (this.sent[e.kind] ?? 0) + 1;
        },
        onEffect: (v, e) => this.#record(this.nodes[v], e),
        pinOk: (to, pin) => !pin.signPub || sameBytes(pin.signPub, this.nodes[to].self.signPub),
      },
    );
    for (let i = 0; i < n; i++) this.addNode();
  }

  /** Virtual time, unix ms. */
  get now(): number {
    return this.engine.now;
  }

  /** Adds a node with a fresh identity at 10.0.x.y:7575. */
  addNode(name?: string): TestNode {
    const engine = this.engine;
    const index = this.nodes.length;
    const keys = generateKeyPairs((k) => engine.rng.bytes(k));
    const uuid = deriveUuid(keys.signPub, keys.boxPub);
    const self: SelfRecord = { uuid, name: name ?? `node${index}`, ...keys, createdAt: this.now };
    const store = new MemoryStore();
    store.apply([{ op: 'self:put', self }]);
    const node: TestNode = {
      index,
      uuid,
      self,
      get address() {
        return engine.address(index);
      },
      get online() {
        return engine.isOnline(index);
      },
      get core() {
        return engine.core(index);
      },
      store,
      inbox: [],
      events: [],
      drops: [],
      results: new Map(),
      get timers() {
        return engine.timers(index);
      },
    };
    this.nodes.push(node);
    const address = `10.0.${index >> 8}.${(index & 255) + 1}:7575`;
    engine.addNode(this.#makeCore(node, address), address);
    return node;
  }

  /** A fresh core from the node's store, as a process builds it at start. */
  #makeCore(node: TestNode, address: string): MeshCore {
    const s = node.store;
    const snapshot: CoreSnapshot = {
      self: s.getSelf()!,
      addresses: [address],
      contacts: s.listContacts(),
      referrals: s.listReferrals(),
      invites: s.listInvites(),
      requests: s.listRequests(),
      outbox: s.listOutbox(),
      deliveredIds: s.listDelivered(),
    };
    const rng = new Rng((this.init.seed ?? 1) * 7919 + node.index * 104729 + this.#coresMade++);
    const init = { ...this.init.core, ...this.init.coreOf?.(node.index) };
    return new MeshCore(snapshot, { random: (k) => rng.bytes(k) }, init, this.now);
  }

  /**
   * Makes a and b contacts of each other (as after an accepted contact request): the records go into
   * both stores and each node's core is rebuilt from its store (meant for building the network before
   * `startAll`; later it is a process restart without the `start` announce).
   */
  connect(a: number, b: number, opts: { domainOf?: number; domain?: string } = {}): void {
    const secret = this.engine.rng.bytes(32);
    const A = this.nodes[a];
    const B = this.nodes[b];
    const rec = (other: TestNode): ContactRecord => ({
      uuid: other.uuid,
      name: other.self.name,
      signPub: other.self.signPub,
      boxPub: other.self.boxPub,
      secret,
      address: other.address,
      status: 'active',
      lastSeen: this.now,
      addedAt: this.now,
      // `domainOf: b` = b is a peer with a domain that a bootstrapped to (a knows it by that name).
      domain: opts.domainOf === other.index ? (opts.domain ?? `peer${other.index}.mesh.test`) : null,
    });
    A.store.apply([{ op: 'contact:put', contact: rec(B) }]);
    B.store.apply([{ op: 'contact:put', contact: rec(A) }]);
    for (const n of [A, B]) this.engine.restart(n.index, this.#makeCore(n, n.address));
  }

  /** Schedules `run` at absolute virtual time `at`. */
  schedule(at: number, run: () => void): void {
    this.engine.schedule(at, run);
  }

  /** Delivers an event to a node now and carries out its effects. */
  deliver(node: TestNode, event: CoreEvent): Effect[] {
    return this.engine.deliver(node.index, event);
  }

  /** Issues a command; returns its id (see `result`). */
  command(i: number, command: Command): number {
    return this.engine.command(i, command);
  }

  /** The result effect of a command, once there. */
  result(i: number, commandId: number): Extract<Effect, { type: 'result' }> | undefined {
    return this.nodes[i].results.get(commandId);
  }

  /** Starts every online node (announce + timers). */
  startAll(): void {
    for (const n of this.nodes) if (n.online) this.command(n.index, { kind: 'start' });
  }

  /** Runs until no event is due before `until` (default: 1 virtual minute from now) or the queue is empty. */
  run(forMs = 60_000): void {
    this.engine.runUntil(this.now + forMs);
  }

  /** Takes a node offline (its address refuses connections; its timers are lost) or back. */
  setOnline(i: number, online: boolean): void {
    this.engine.setOnline(i, online);
  }

  /** Restarts a node from its store (a process restart): fresh core, same persisted state. */
  restart(i: number, address?: string): void {
    const n = this.nodes[i];
    if (address) this.engine.setAddress(i, address);
    this.engine.setOnline(i, true);
    this.engine.restart(i, this.#makeCore(n, n.address));
    this.command(i, { kind: 'start' });
  }

  /** Moves a running node to a new address and tells its core (an "IP change"). */
  move(i: number, address: string): void {
    this.engine.setAddress(i, address);
    this.command(i, { kind: 'address', addresses: [address] });
  }

  /** The node currently listening at an address. */
  at(address: string): TestNode | undefined {
    const v = this.engine.nodeAt(address);
    return v !== undefined && this.engine.isOnline(v) ? this.nodes[v] : undefined;
  }

  /** What the engine leaves to the host: the store, the inbox, events, drops and results. */
  #record(node: TestNode, e: Effect): void {
    switch (e.type) {
      case 'persist':
        node.store.apply(e.ops);
        break;
      case 'deliver':
        node.inbox.push(e.message);
        break;
      case 'emit':
        node.events.push(e.data);
        break;
      case 'drop':
        node.drops.push({ reason: e.reason, detail: e.detail });
        break;
      case 'result':
        node.results.set(e.commandId, e);
        break;
      case 'punch':
        this.#punch(node, e);
        break;
    }
  }

  /** Where node `i`'s punch port appears to node `j`: the port kept, or a fresh one (symmetric NAT). */
  #mapped(i: number, j: number): string {
    const host = this.nodes[i].address.slice(0, this.nodes[i].address.lastIndexOf(':'));
    const port = this.init.core?.punchPort ?? 0;
    return this.nat.get(i) === 'random' ? `${host}:${20_000 + ((i * 7919 + j * 104729) % 40_000)}` : `${host}:${port}`;
  }

  /**
   * A `punch` effect: it succeeds when the other end punches us too within the time budget and each
   * aims at the endpoint the other's router really uses for this pair (SYN retransmissions cover the
   * skew, as through `drop` filtering); the results come a connection setup (two round trips) after
   * the later start, or at the end of the budget.
   */
  #punch(node: TestNode, e: Extract<Effect, { type: 'punch' }>): void {
    const v = node.index;
    const u = this.nodes.findIndex((n) => n.uuid === e.uuid);
    this.punchLog.push({ node: v, to: u, at: e.at, role: e.role });
    const mine: PunchIntent = {
      to: u,
      attempt: e.attempt,
      remotes: e.remotes,
      at: e.at,
      timeoutMs: e.timeoutMs,
      settled: false,
    };
    const result = (i: number, intent: PunchIntent, ok: boolean, at: number) => {
      intent.settled = true;
      const uuid = this.nodes[intent.to].uuid;
      this.schedule(at, () =>
        this.deliver(this.nodes[i], {
          type: 'punch-result',
          uuid,
          attempt: intent.attempt,
          ok,
          ...(ok ? {} : { reason: 'TIMEOUT' }),
        }),
      );
    };
    const theirs = this.#punching.get(u);
    if (
      theirs &&
      !theirs.settled &&
      theirs.to === v &&
      Math.abs(theirs.at - e.at) < Math.min(theirs.timeoutMs, e.timeoutMs)
    ) {
      this.#punching.delete(u);
      const ok = mine.remotes.includes(this.#mapped(u, v)) && theirs.remotes.includes(this.#mapped(v, u));
      if (ok) {
        const at = Math.max(theirs.at, e.at) + 4 * this.latencyMs;
        result(v, mine, true, at);
        result(u, theirs, true, at);
        this.direct.add(v < u ? `${v}-${u}` : `${u}-${v}`);
        return;
      }
      result(u, theirs, false, theirs.at + theirs.timeoutMs);
      result(v, mine, false, e.at + e.timeoutMs);
      return;
    }
    this.#punching.set(v, mine);
    this.schedule(e.at + e.timeoutMs, () => {
      if (mine.settled) return;
      if (this.#punching.get(v) === mine) this.#punching.delete(v);
      result(v, mine, false, this.now);
    });
  }
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Creates a testnet of `n` nodes. */
export function createTestnet(n: number, init: TestnetInit = {}): Testnet {
  return new Testnet(n, init);
}
