/**
 * The one discrete-event network engine: a virtual clock, one event queue, and the network part of
 * every core effect — `send` delivered after a per-link latency (or lost, or refused), `respond`
 * carried back, `set-timer` / `clear-timer` kept per node — for any number of protocol cores. The
 * testnet (src/testing/testnet.ts) and the simulator (simulator.ts) both run on it; neither has a
 * queue, a timer table or a random generator of its own.
 *
 * ```ts
 * const engine = new Engine({ seed: 1, latency: () => 20, offline: 'refuse' }, { onEffect: log });
 * const a = engine.addNode(coreA, '10.0.0.1:7575');
 * engine.command(a, { kind: 'start' });
 * engine.runUntil(engine.now + 60_000);
 * ```
 *
 * The engine changes a node only as a network and a host would: it delivers events (requests,
 * responses, failures, timers, commands), takes a node off the network, gives it another address,
 * or restarts it with a new core (built by the caller, e.g. from the node's stored snapshot). It
 * never reaches into a core's state.
 *
 * Every event carries a small integer `tag`; effects produced while handling it inherit the tag, so
 * a caller can attribute traffic causally (the simulator's maintenance / move / relocation) and ask
 * whether any work of a tag is still queued (`pendingWork`).
 */
import type { TransportErrorCode } from '../errors.ts';
import type { Command, CoreEvent, Effect, PinSpec } from '../protocol/events.ts';
import { EventQueue } from './event-queue.ts';
import { Rng } from './rng.ts';
import { type TimerRef, timerEvent, timerKeyOf, timerOf } from './timer-ref.ts';

/** What the engine needs of a core: events in, effects out. */
export interface EngineCore {
  handle(event: CoreEvent, now: number): Effect[];
}

/** How an offline host looks to a sender: a closed port (refused after one round trip) or a vanished host (the send times out). */
export type OfflineModel = 'refuse' | 'silent';

/** A `send` effect. */
export type SendEffect = Extract<Effect, { type: 'send' }>;
/** A `respond` effect. */
export type RespondEffect = Extract<Effect, { type: 'respond' }>;

/** Options of an engine. */
export interface EngineInit {
  /** Seed of the engine's PRNG (used for loss). @default 1 */
  seed?: number;
  /** The PRNG to use instead of one seeded with `seed`. */
  rng?: Rng;
  /** Virtual time at the start, ms. @default 0 */
  startAt?: number;
  /** One-way latency from node a to node b, ms. @default 20 ms for every link */
  latency?: (a: number, b: number) => number;
  /** Probability that a request is lost on the way (the sender sees its timeout). @default 0 */
  loss?: number;
  /** @default 'silent' */
  offline?: OfflineModel;
  /** Port of outgoing connections as the receiver sees it (cores learn the listening port from a header). @default 40000 */
  remotePort?: number;
  /** Number of distinct tags (0 … tags−1). @default 1 */
  tags?: number;
  /** Tag given to periodic timers, whatever set them; their events are not counted as pending work. @default 0 */
  periodicTag?: number;
  /** Runs `onTick` every this many events. @default 20000 */
  tickEvery?: number;
}

/** Callbacks of the engine's owner (accounting, inboxes, stores). All optional. */
export interface EngineHooks {
  /** Every `send` effect, before the engine carries it out. */
  onSend?(node: number, e: SendEffect, tag: number): void;
  /** Every `respond` effect; `requestKind` is the answered send's kind (undefined: the sender gave up). */
  onRespond?(node: number, e: RespondEffect, requestKind: string | undefined, tag: number): void;
  /** Every other effect that is not the network's business: persist, deliver, emit, drop, result. */
  onEffect?(node: number, e: Effect, tag: number): void;
  /** Whether a timer is periodic background work (then it gets `periodicTag`). @default never */
  periodicTimer?(t: TimerRef): boolean;
  /** Whether node `to` passes a send's TLS pin. @default always */
  pinOk?(to: number, pin: PinSpec): boolean;
}

const E_REQUEST = 0;
const E_RESPONSE = 1;
const E_FAIL = 2;
const E_TIMER = 3;
const E_COMMAND = 4;
const E_TIMEOUT = 5;
const E_CALL = 6;

/** One queued event: a flat record (one shape for every kind keeps the hot loop monomorphic). */
interface EngineEvent {
  t: number;
  seq: number;
  kind: number;
  node: number;
  tag: number;
  /** request/response/timeout: the engine's send id; fail: the core's request id; timer: generation. */
  sid: number;
  /** response: HTTP status; fail: the core generation it is for. */
  status: number;
  /** request: the remote address as the receiver sees it; fail: the reason. */
  str: string;
  headers: Record<string, string> | null;
  body: Uint8Array | null;
  /** command: the command; timer: the timer; call: the function. */
  data: Command | TimerRef | (() => void) | null;
}

/** A send on the wire, by the engine's send id (also the request id the receiving core sees). */
interface PendingSend {
  from: number;
  /** The sender's core generation: an answer to a core that has since restarted is lost. */
  gen: number;
  /** The sender core's own request id. */
  req: number;
  to: number;
  kind: string;
}

/** The discrete-event engine (see the file comment). */
export class Engine<C extends EngineCore = EngineCore> {
  /** Virtual time, ms. */
  now: number;
  /** Events handled so far. */
  events = 0;
  /** The engine's PRNG (one implementation for everything random in tests and simulations). */
  readonly rng: Rng;
  readonly #hooks: EngineHooks;
  readonly #latency: (a: number, b: number) => number;
  readonly #loss: number;
  readonly #refuse: boolean;
  readonly #remotePort: string;
  readonly #periodicTag: number;
  readonly #tickEvery: number;
  readonly #q = new EventQueue<EngineEvent>();
  readonly #cores: (C | null)[] = [];
  readonly #address: string[] = [];
  /** Per node: how its outgoing connections look to a receiver ("host:remotePort"), made once per address. */
  readonly #remote: string[] = [];
  readonly #online: boolean[] = [];
  readonly #gen: number[] = [];
  readonly #timers: (Map<string, number> | null)[] = [];
  readonly #byAddress = new Map<string, number>();
  /** Addresses nobody holds any more → their last holder (for the round trip of a refused connection). */
  readonly #vacated = new Map<string, number>();
  readonly #pending = new Map<number, PendingSend>();
  readonly #work: number[];
  #nextSid = 1;
  #timerGen = 1;
  #nextCommandId = 1;
  #lastTick = 0;

  constructor(init: EngineInit = {}, hooks: EngineHooks = {}) {
    this.rng = init.rng ?? new Rng(init.seed ?? 1);
    this.now = init.startAt ?? 0;
    this.#hooks = hooks;
    this.#latency = init.latency ?? (() => 20);
    this.#loss = init.loss ?? 0;
    this.#refuse = (init.offline ?? 'silent') === 'refuse';
    this.#remotePort = String(init.remotePort ?? 40000);
    this.#periodicTag = init.periodicTag ?? 0;
    this.#tickEvery = init.tickEvery ?? 20000;
    this.#work = new Array(init.tags ?? 1).fill(0);
  }

  // ---------------------------------------------------------------- nodes

  /** Adds a node listening at `address`; returns its index. */
  addNode(core: C | null, address: string, online = true): number {
    const v = this.#cores.length;
    this.#cores.push(core);
    this.#address.push(address);
    this.#remote.push(this.#remoteOf(address));
    this.#online.push(online);
    this.#gen.push(0);
    this.#timers.push(null);
    this.#byAddress.set(address, v);
    return v;
  }

  /** Number of nodes. */
  get size(): number {
    return this.#cores.length;
  }

  /** The core node `v` runs now. */
  core(v: number): C {
    return this.#cores[v]!;
  }

  /** The address node `v` listens at. */
  address(v: number): string {
    return this.#address[v];
  }

  /** Whether node `v` is on the network (offline: nothing is delivered to it, its timers are lost). */
  isOnline(v: number): boolean {
    return this.#online[v];
  }

  /** Takes node `v` off the network or back. */
  setOnline(v: number, online: boolean): void {
    this.#online[v] = online;
  }

  /** The node listening at `address`, if any. */
  nodeAt(address: string): number | undefined {
    return this.#byAddress.get(address);
  }

  /** Node `v` now listens at `address`; nobody answers at its old one (the core is told separately, by a command). */
  setAddress(v: number, address: string): void {
    const old = this.#address[v];
    if (old === address) return;
    if (this.#byAddress.get(old) === v) {
      this.#byAddress.delete(old);
      this.#vacated.set(old, v);
    }
    this.#address[v] = address;
    this.#remote[v] = this.#remoteOf(address);
    this.#byAddress.set(address, v);
    this.#vacated.delete(address);
  }

  /** A process restart: node `v` runs `core` from now on; its timers are gone and answers to the old core are lost. */
  restart(v: number, core: C): void {
    this.#cores[v] = core;
    this.#gen[v]++;
    this.#timers[v] = null;
  }

  /** The timer table of node `v` (timer key → generation), for inspection. */
  timers(v: number): ReadonlyMap<string, number> {
    return this.#timers[v] ?? new Map();
  }

  #remoteOf(address: string): string {
    return `${address.slice(0, address.lastIndexOf(':'))}:${this.#remotePort}`;
  }

  // ---------------------------------------------------------------- events in

  /** Feeds `event` to node `v` now (online or not: a local call) and carries out the effects. */
  deliver(v: number, event: CoreEvent, tag = 0): Effect[] {
    const fx = this.#cores[v]!.handle(event, this.now);
    this.#carryOut(v, fx, tag);
    return fx;
  }

  /** Issues a command to node `v` now; returns its command id (the `result` effect carries it). */
  command(v: number, command: Command, tag = 0): number {
    const commandId = this.#nextCommandId++;
    this.deliver(v, { type: 'command', commandId, command }, tag);
    return commandId;
  }

  /** Queues a command for node `v` at time `at` (delivered only if the node is online then). */
  scheduleCommand(at: number, v: number, command: Command, tag = 0): void {
    const e = this.#event(at, E_COMMAND, v, tag);
    e.data = command;
    this.#schedule(e);
  }

  /** Queues a function call at time `at`. */
  schedule(at: number, run: () => void, tag = 0): void {
    const e = this.#event(at, E_CALL, -1, tag);
    e.data = run;
    this.#schedule(e);
  }

  /** Events of `tag` still queued (periodic timers excluded): 0 means that work has settled. */
  pendingWork(tag: number): number {
    return this.#work[tag];
  }

  /** Whether any event is queued. */
  get idle(): boolean {
    return this.#q.size === 0;
  }

  /**
   * Handles events in time order until `stop()` holds or the next event is after `until`; then the
   * clock stands at `until` (unless stopped early). `onTick` runs every `tickEvery` events (progress).
   */
  runUntil(until: number, stop?: () => boolean, onTick?: () => void): void {
    const q = this.#q;
    while (q.size > 0 && !stop?.()) {
      if (q.peek()!.t > until) break;
      this.#step(q.pop()!);
      if (onTick && this.events - this.#lastTick >= this.#tickEvery) {
        this.#lastTick = this.events;
        onTick();
      }
    }
    if (!stop?.() && until > this.now) this.now = until;
  }

  // ---------------------------------------------------------------- the queue

  #event(t: number, kind: number, node: number, tag: number): EngineEvent {
    return { t, seq: 0, kind, node, tag, sid: 0, status: 0, str: '', headers: null, body: null, data: null };
  }

  #isWork(e: EngineEvent): boolean {
    return !(e.kind === E_TIMER && e.tag === this.#periodicTag);
  }

  #schedule(e: EngineEvent): void {
    if (this.#isWork(e)) this.#work[e.tag]++;
    this.#q.push(e);
  }

  #deliverIfUp(v: number, event: CoreEvent, tag: number): void {
    const core = this.#cores[v];
    if (!core || !this.#online[v]) return;
    this.#carryOut(v, core.handle(event, this.now), tag);
  }

  #step(e: EngineEvent): void {
    this.now = e.t;
    this.events++;
    if (this.#isWork(e)) this.#work[e.tag]--;
    switch (e.kind) {
      case E_REQUEST: {
        const p = this.#pending.get(e.sid);
        if (!p) return; // the sender gave up before it arrived
        if (!this.#online[e.node]) {
          // The host went away while the request was on the way.
          if (this.#refuse && p.gen === this.#gen[p.from])
            this.#refused(p.from, p.req, this.#latency(e.node, p.from), e.tag, e.sid);
          return;
        }
        const ev: CoreEvent = { type: 'request', requestId: e.sid, remote: e.str, headers: e.headers!, body: e.body! };
        this.#deliverIfUp(e.node, ev, e.tag);
        return;
      }
      case E_RESPONSE:
      case E_TIMEOUT: {
        const p = this.#pending.get(e.sid);
        if (!p) return;
        this.#pending.delete(e.sid);
        if (p.gen !== this.#gen[p.from]) return; // answer to a core that has since restarted
        const ev: CoreEvent =
          e.kind === E_RESPONSE
            ? { type: 'response', requestId: p.req, status: e.status, body: e.body! }
            : { type: 'send-failed', requestId: p.req, reason: 'TIMEOUT' };
        this.#deliverIfUp(p.from, ev, e.tag);
        return;
      }
      case E_FAIL:
        if (e.status !== this.#gen[e.node]) return;
        // An E_FAIL event's str is always one of the transport codes set where it is scheduled.
        this.#deliverIfUp(
          e.node,
          { type: 'send-failed', requestId: e.sid, reason: e.str as TransportErrorCode },
          e.tag,
        );
        return;
      case E_TIMER: {
        const m = this.#timers[e.node];
        const t = e.data as TimerRef;
        const key = timerKeyOf(t);
        if (!m || m.get(key) !== e.sid) return; // replaced or cleared
        m.delete(key);
        this.#deliverIfUp(e.node, timerEvent(t), e.tag);
        return;
      }
      case E_COMMAND:
        this.#deliverIfUp(
          e.node,
          { type: 'command', commandId: this.#nextCommandId++, command: e.data as Command },
          e.tag,
        );
        return;
      case E_CALL:
        (e.data as () => void)();
        return;
    }
  }

  // ---------------------------------------------------------------- effects out

  #carryOut(v: number, fx: Effect[], tag: number): void {
    for (const e of fx) {
      switch (e.type) {
        case 'send':
          this.#send(v, e, tag);
          break;
        case 'respond':
          this.#respond(v, e, tag);
          break;
        case 'set-timer':
          this.#setTimer(v, e, tag);
          break;
        case 'clear-timer':
          this.#timers[v]?.delete(timerKeyOf(timerOf(e)));
          break;
        default:
          this.#hooks.onEffect?.(v, e, tag);
      }
    }
  }

  /** Connection refused: the sender's core hears it `delay` ms from now (a round trip from the send). */
  #refused(from: number, requestId: number, delay: number, tag: number, sid = 0): void {
    if (sid) this.#pending.delete(sid);
    const f = this.#event(this.now + delay, E_FAIL, from, tag);
    f.sid = requestId;
    f.status = this.#gen[from];
    f.str = 'CONNECT_FAILED';
    this.#schedule(f);
  }

  #send(v: number, e: SendEffect, tag: number): void {
    const sid = this.#nextSid++;
    this.#hooks.onSend?.(v, e, tag);
    const to = this.#byAddress.get(e.address);
    if (to === undefined || to === v) {
      // Nobody listens there.
      this.#refused(v, e.requestId, 2 * this.#latency(v, this.#vacated.get(e.address) ?? v), tag);
      return;
    }
    if ((this.#refuse && !this.#online[to]) || (e.pin && this.#hooks.pinOk && !this.#hooks.pinOk(to, e.pin))) {
      // A closed port, or someone else's key behind the address (the TLS pin fails).
      this.#refused(v, e.requestId, 2 * this.#latency(v, to), tag);
      return;
    }
    this.#pending.set(sid, { from: v, gen: this.#gen[v], req: e.requestId, to, kind: e.kind });
    const lost = this.#loss > 0 && this.rng.next() < this.#loss;
    if (this.#online[to] && !lost) {
      const r = this.#event(this.now + this.#latency(v, to), E_REQUEST, to, tag);
      r.sid = sid;
      r.str = this.#remote[v];
      r.headers = e.headers;
      r.body = e.body;
      this.#schedule(r);
    }
    const t = this.#event(this.now + e.timeoutMs, E_TIMEOUT, v, tag);
    t.sid = sid;
    this.#schedule(t);
  }

  #respond(v: number, e: RespondEffect, tag: number): void {
    const p = this.#pending.get(e.requestId);
    this.#hooks.onRespond?.(v, e, p?.kind, tag);
    if (!p) return; // the sender already timed out
    const r = this.#event(this.now + this.#latency(v, p.from), E_RESPONSE, p.from, tag);
    r.sid = e.requestId;
    r.status = e.status;
    r.body = e.body;
    this.#schedule(r);
  }

  #setTimer(v: number, e: Extract<Effect, { type: 'set-timer' }>, tag: number): void {
    let m = this.#timers[v];
    if (!m) m = this.#timers[v] = new Map();
    const gen = this.#timerGen++;
    const t = timerOf(e);
    m.set(timerKeyOf(t), gen);
    // Periodic timers are background work whatever set them; the rest inherit the causal tag.
    const ev = this.#event(
      Math.max(e.at, this.now),
      E_TIMER,
      v,
      this.#hooks.periodicTimer?.(t) ? this.#periodicTag : tag,
    );
    ev.sid = gen;
    ev.data = t;
    this.#schedule(ev);
  }
}
