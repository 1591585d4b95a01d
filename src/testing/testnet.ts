/**
 * A virtual-time network of protocol cores for tests and benchmarks: every effect is carried out
 * in memory, time jumps to the next event. Deterministic for a given seed.
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
import { timerKey } from '../protocol/timers.ts';
import type { ContactRecord, InboxRecord, SelfRecord } from '../protocol/types.ts';
import { MemoryStore } from '../store/memory-store.ts';

/** A tiny seeded PRNG (sfc32) used for keys, latencies and the cores' randomness. */
export function seededRandom(seed: number): { next(): number; bytes(n: number): Uint8Array } {
  let a = 0x9e3779b9 ^ seed;
  let b = 0x243f6a88 ^ (seed * 31);
  let c = 0xb7e15162;
  let d = 1;
  const next = () => {
    a |= 0;
    b |= 0;
    c |= 0;
    d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return {
    next,
    bytes(n: number) {
      const out = new Uint8Array(n);
      for (let i = 0; i < n; i++) out[i] = Math.floor(next() * 256);
      return out;
    },
  };
}

/** One node of the testnet. */
export interface TestNode {
  index: number;
  uuid: string;
  self: SelfRecord;
  address: string;
  online: boolean;
  core: MeshCore;
  store: MemoryStore;
  inbox: InboxRecord[];
  events: AppEvent[];
  drops: { reason: DropReason; detail?: string }[];
  results: Map<number, Extract<Effect, { type: 'result' }>>;
  timers: Map<string, number>;
}

interface QueueItem {
  at: number;
  seq: number;
  run: () => void;
}

/** Options of a testnet. */
export interface TestnetInit {
  seed?: number;
  /** One-way latency per message, ms. @default 20 */
  latencyMs?: number;
  /** Protocol options for every core. */
  core?: CoreInit;
  /** Start time, unix ms. @default 1_767_225_600_000 */
  startAt?: number;
}

/** A virtual-time network of cores. */
export class Testnet {
  readonly nodes: TestNode[] = [];
  now: number;
  /** Sends by effect kind. */
  readonly sent: Record<string, number> = {};
  #queue: QueueItem[] = [];
  #seq = 0;
  #nextCommand = 1;
  #nextInbound = 1;
  #pendingReplies = new Map<number, { from: TestNode; core: MeshCore; requestId: number }>();
  #rng: ReturnType<typeof seededRandom>;
  readonly latencyMs: number;
  readonly init: TestnetInit;

  constructor(n: number, init: TestnetInit = {}) {
    this.init = init;
    this.now = init.startAt ?? 1_767_225_600_000;
    this.latencyMs = init.latencyMs ?? 20;
    this.#rng = seededRandom(init.seed ?? 1);
    for (let i = 0; i < n; i++) this.addNode();
  }

  /** Adds a node with a fresh identity at 10.0.x.y:7575. */
  addNode(name?: string): TestNode {
    const index = this.nodes.length;
    const keys = generateKeyPairs((k) => this.#rng.bytes(k));
    const uuid = deriveUuid(keys.signPub, keys.boxPub);
    const self: SelfRecord = { uuid, name: name ?? `node${index}`, ...keys, createdAt: this.now };
    const store = new MemoryStore();
    store.apply([{ op: 'self:put', self }]);
    const node: TestNode = {
      index,
      uuid,
      self,
      address: `10.0.${index >> 8}.${(index & 255) + 1}:7575`,
      online: true,
      core: null as unknown as MeshCore,
      store,
      inbox: [],
      events: [],
      drops: [],
      results: new Map(),
      timers: new Map(),
    };
    node.core = this.#makeCore(node);
    this.nodes.push(node);
    return node;
  }

  #makeCore(node: TestNode): MeshCore {
    const s = node.store;
    const snapshot: CoreSnapshot = {
      self: s.getSelf()!,
      addresses: [node.address],
      contacts: s.listContacts(),
      referrals: s.listReferrals(),
      invites: s.listInvites(),
      requests: s.listRequests(),
      outbox: s.listOutbox(),
      deliveredIds: s.listInbox().map((m) => m.id),
    };
    const rng = seededRandom((this.init.seed ?? 1) * 7919 + node.index * 104729 + this.#seq);
    return new MeshCore(snapshot, { random: (k) => rng.bytes(k) }, this.init.core, this.now);
  }

  /** Makes a and b contacts of each other (as after an accepted contact request). */
  connect(a: number, b: number): void {
    const secret = this.#rng.bytes(32);
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
      domain: null,
    });
    A.store.apply([{ op: 'contact:put', contact: rec(B) }]);
    B.store.apply([{ op: 'contact:put', contact: rec(A) }]);
    A.core.contactMap.set(B.uuid, rec(B));
    B.core.contactMap.set(A.uuid, rec(A));
  }

  /** Schedules `run` at absolute virtual time `at`. */
  schedule(at: number, run: () => void): void {
    const item = { at, seq: this.#seq++, run };
    // Binary insertion keeps the queue ordered by (at, seq).
    let lo = 0;
    let hi = this.#queue.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      const q = this.#queue[mid];
      if (q.at < at || (q.at === at && q.seq < item.seq)) lo = mid + 1;
      else hi = mid;
    }
    this.#queue.splice(lo, 0, item);
  }

  /** Delivers an event to a node now and carries out its effects. */
  deliver(node: TestNode, event: CoreEvent): Effect[] {
    const fx = node.core.handle(event, this.now);
    for (const e of fx) this.#carryOut(node, e);
    return fx;
  }

  /** Issues a command; returns its id (see `result`). */
  command(i: number, command: Command): number {
    const commandId = this.#nextCommand++;
    this.deliver(this.nodes[i], { type: 'command', commandId, command });
    return commandId;
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
    const until = this.now + forMs;
    while (this.#queue.length > 0 && this.#queue[0].at <= until) {
      const item = this.#queue.shift()!;
      this.now = Math.max(this.now, item.at);
      item.run();
    }
    this.now = Math.max(this.now, until);
  }

  /** Takes a node offline (its address stops answering; its timers stop). */
  setOnline(i: number, online: boolean): void {
    this.nodes[i].online = online;
  }

  /** Restarts a node from its store (a process restart): fresh core, same persisted state. */
  restart(i: number, address?: string): void {
    const n = this.nodes[i];
    if (address) n.address = address;
    n.timers.clear();
    n.online = true;
    n.core = this.#makeCore(n);
    this.command(i, { kind: 'start' });
  }

  /** Moves a running node to a new address and tells its core (an "IP change"). */
  move(i: number, address: string): void {
    const n = this.nodes[i];
    n.address = address;
    this.command(i, { kind: 'address', addresses: [address] });
  }

  /** The node currently listening at an address. */
  at(address: string): TestNode | undefined {
    return this.nodes.find((n) => n.online && n.address === address);
  }

  #carryOut(node: TestNode, e: Effect): void {
    switch (e.type) {
      case 'send': {
        this.sent[e.kind] = (this.sent[e.kind] ?? 0) + 1;
        const core = node.core;
        const arrive = this.now + this.latencyMs;
        this.schedule(arrive, () => {
          if (node.core !== core || !node.online) return;
          const target = this.at(e.address);
          if (!target || (e.pin?.signPub && !sameBytes(e.pin.signPub, target.self.signPub))) {
            // Nobody there (or someone else with another key: TLS pin fails): refused after one RTT.
            this.schedule(this.now + this.latencyMs, () => {
              if (node.core === core)
                this.deliver(node, { type: 'send-failed', requestId: e.requestId, reason: 'CONNECT_FAILED' });
            });
            return;
          }
          const inbound = this.#nextInbound++;
          this.#pendingReplies.set(inbound, { from: node, core, requestId: e.requestId });
          const remoteHost = node.address.slice(0, node.address.lastIndexOf(':'));
          this.deliver(target, {
            type: 'request',
            requestId: inbound,
            remote: `${remoteHost}:40000`,
            headers: e.headers,
            body: e.body,
          });
        });
        break;
      }
      case 'respond': {
        const p = this.#pendingReplies.get(e.requestId);
        if (!p) break;
        this.#pendingReplies.delete(e.requestId);
        this.schedule(this.now + this.latencyMs, () => {
          if (p.from.core === p.core && p.from.online)
            this.deliver(p.from, { type: 'response', requestId: p.requestId, status: e.status, body: e.body });
        });
        break;
      }
      case 'set-timer': {
        const key = timerKey(e.timer);
        node.timers.set(key, e.at);
        const core = node.core;
        this.schedule(e.at, () => {
          if (node.core !== core || !node.online || node.timers.get(key) !== e.at) return;
          node.timers.delete(key);
          this.deliver(node, { type: 'timer', timer: e.timer });
        });
        break;
      }
      case 'clear-timer':
        node.timers.delete(timerKey(e.timer));
        break;
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
    }
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
