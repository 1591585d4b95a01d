/**
 * MeshNode: runs the protocol core for real — feeds it network events, timers and user commands
 * with the wall clock, and carries out its effects (HTTPS requests, timers, SQLite writes).
 */

import { EventEmitter } from 'node:events';
import { toB64u } from '../crypto/index.ts';
import { MeshError, WIRE_ERRORS, type WireErrorCode } from '../errors.ts';
import type { ChannelTransport, Clock, Logger, Random, Store, Transport } from '../ports.ts';
import { isChannelTransport, TransportError } from '../ports.ts';
import { errorBody } from '../protocol/codec.ts';
import type { CoreInit } from '../protocol/config.ts';
import type { AppEvent, Command, CoreEvent, Effect } from '../protocol/events.ts';
import { MeshCore } from '../protocol/node.ts';
import { timerKey } from '../protocol/timers.ts';
import type { ContactRecord, InboxRecord } from '../protocol/types.ts';
import { parseAddress, parseBootstrap } from '../util/address.ts';
import { ChannelKeeper } from './channels.ts';
import { NatWatch } from './nat-watch.ts';
import { PortMapper } from './port-mapping.ts';
import { runPunch } from './punch.ts';
import { pooledRandom } from './random.ts';
import {
  addCounts,
  advertisedAddress,
  type ContactView,
  type ConversationItem,
  contactPath,
  conversationWith,
  type NodeStatus,
  natStatus,
} from './views.ts';

export { advertisedAddress, type ContactView, type ConversationItem, type NodeStatus };

import { GroupCommit } from './group-commit.ts';
import { InboundAnswers } from './inbound-answers.ts';

/** Options of a MeshNode. */
export interface MeshNodeInit {
  store: Store;
  transport: Transport;
  /** Protocol options (radii, acceptAll, isPublic, port...). */
  core?: CoreInit;
  /** @default a silent logger */
  logger?: Logger;
  /** @default Date.now */
  clock?: Clock;
  /** @default node:crypto randomBytes */
  random?: Random;
  /**
   * The address to tell contacts. @default the listen address when it is specific, else the first
   * non-internal IPv4 interface address with the listen port.
   */
  advertise?: string;
  /** How often to look at local interfaces and the router for an address change, ms. @default ADDRESS_POLL_MS */
  interfaceCheckMs?: number;
  /** Map our port on the home router (UPnP-IGD / NAT-PMP, PROTOCOL.md §15.6). @default false */
  portMapping?: boolean;
}

const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};

/**
 * A Mesh node. Emits 'message' (InboxRecord) and the core's AppEvents by name
 * ('contact:request', 'contact:added', 'contact:online', 'contact:offline', 'contact:address',
 * 'message:state', 'self:observed', 'relocated').
 */
export class MeshNode extends EventEmitter {
  readonly store: Store;
  readonly transport: Transport;
  readonly log: Logger;
  #core: MeshCore | null = null;
  #clock: Clock;
  #random: Random;
  #init: MeshNodeInit;
  #timers = new Map<string, NodeJS.Timeout>();
  #inbound = new InboundAnswers((id) => this.#answerError(id, 'UNREACHABLE', 'no answer in time'));
  #commands = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  #nextCommand = 1;
  #listen: string[] = [];
  #observed = new Map<string, number>();
  #nat: NatWatch | null = null;
  #stopping = false;
  #batch: GroupCommit;
  #channels: ChannelKeeper | null = null;
  readonly drops: Record<string, number> = {};

  constructor(init: MeshNodeInit) {
    super();
    this.#init = init;
    this.store = init.store;
    this.transport = init.transport;
    this.log = init.logger ?? silentLogger;
    this.#clock = init.clock ?? { now: () => Date.now() };
    this.#random = init.random ?? pooledRandom();
    this.#batch = new GroupCommit(
      this.store,
      (e) => this.#carryOut(e),
      (ops) => this.#channels?.syncOps(ops),
      (fx) => {
        for (const e of fx) if (e.type === 'respond') this.#answerError(e.requestId, 'INTERNAL', 'storage failed');
      },
      this.log,
    );
  }

  /** The node's UUID. */
  get uuid(): string {
    return this.#requireSelf().uuid;
  }

  #requireSelf() {
    const self = this.store.getSelf();
    if (!self) throw MeshError.notInitialised('this store');
    return self;
  }

  /** Starts listening, loads state into the core, announces itself to every contact. */
  async start(): Promise<void> {
    const self = this.#requireSelf();
    const bound = await this.transport.listen((req) =>
      this.#onInbound(req.remote, req.headers, req.body, req.channel?.uuid ?? null),
    );
    this.#listen = [bound];
    const advertise = this.#init.advertise ?? advertisedAddress(bound);
    const s = this.store;
    this.#core = new MeshCore(
      {
        self,
        addresses: [advertise],
        contacts: s.listContacts(),
        referrals: s.listReferrals(),
        invites: s.listInvites(),
        requests: s.listRequests(),
        outbox: s.listOutbox(),
        deliveredIds: s.listDelivered(),
      },
      { random: (n) => this.#random.bytes(n) },
      { port: parseAddress(bound).port, dialback: true, ...this.#init.core },
      this.#clock.now(),
    );
    this.log.info({ uuid: self.uuid, listen: bound, advertise }, 'node started');
    const core = this.#core;
    const t = this.transport as Partial<ChannelTransport>;
    // Contacts' POSTs get a budget instead of the per-IP wall (the core still checks their proof).
    t.trustSenders?.((uuid) => core.contact(uuid)?.status === 'active');
    if (isChannelTransport(this.transport)) {
      this.#channels = new ChannelKeeper(
        this.transport,
        (uuid) => core.contact(uuid),
        (uuid, open) => void this.command({ kind: 'channel', uuid, open }).catch(() => {}),
        () => core.state.introducerRelays.values(),
        (uuid) => void this.command({ kind: 'reannounce', uuid }).catch(() => {}),
      );
      this.#channels.syncAll(core.contacts());
    }
    await this.command({ kind: 'start' });
    const { host, port } = parseAddress(bound);
    const mapper = this.#init.portMapping ? new PortMapper(port, this.log.child({ component: 'nat' })) : null;
    this.#nat = new NatWatch(
      () => advertisedAddress(bound),
      (c) => this.command(c),
      mapper,
      this.log,
      !this.#init.advertise && (host === '0.0.0.0' || host === '::'),
      this.#init.interfaceCheckMs,
      { transport: this.transport as Partial<ChannelTransport>, nat: () => core.state.nat },
    );
    // Mapping waits for the router (up to a few seconds): the node already serves meanwhile.
    void this.#nat.start().catch((err) => this.log.warn({ err }, 'port mapping failed'));
  }

  /** Stops gracefully: answers what is pending, clears timers, closes the transport and the store. */
  async stop(): Promise<void> {
    if (this.#stopping) return;
    this.#batch.flush(); // what the core decided so far becomes durable and goes out
    this.#stopping = true;
    this.#channels?.close();
    await this.#nat?.stop().catch(() => {});
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
    this.#inbound.answerAll(() => ({
      status: WIRE_ERRORS.UNAVAILABLE,
      body: errorBody('UNAVAILABLE', 'node is stopping'),
    }));
    await this.transport.close();
    for (const c of this.#commands.values()) c.reject(new MeshError('STOPPED', 'the node stopped'));
    this.#commands.clear();
    this.store.close();
    this.log.info({}, 'node stopped');
  }

  /** The running core (for read-only views). */
  get core(): MeshCore {
    if (!this.#core) throw new MeshError('NOT_STARTED', 'the node is not started');
    return this.#core;
  }

  /** Feeds an event to the core and carries out its effects. */
  #dispatch(event: CoreEvent): void {
    if (!this.#core || this.#stopping) return;
    let fx: Effect[];
    try {
      fx = this.#core.handle(event, this.#clock.now());
    } catch (err) {
      this.log.error({ err, event: event.type }, 'core threw');
      if (event.type === 'request') this.#answerError(event.requestId, 'INTERNAL', 'internal error');
      return;
    }
    // Group commit (group-commit.ts): the writes of every event of this loop turn become one
    // transaction; answers, sends and results go out only after it.
    this.#batch.add(fx);
  }

  /** Answers an inbound request with a wire error when the core could not (it threw, or took too long). */
  #answerError(requestId: number, code: WireErrorCode, message: string): void {
    this.#inbound.answer(requestId, { status: WIRE_ERRORS[code], body: errorBody(code, message) });
  }

  #onInbound(
    remote: string,
    headers: Record<string, string>,
    body: Uint8Array,
    channel: string | null,
  ): Promise<{ status: number; body: Uint8Array }> {
    return this.#inbound.open((requestId) =>
      this.#dispatch({ type: 'request', requestId, remote, headers, body, channel }),
    );
  }

  #carryOut(e: Effect): void {
    switch (e.type) {
      case 'send':
        this.transport
          .request({
            address: e.address,
            headers: e.headers,
            body: e.body,
            pin: e.pin,
            timeoutMs: e.timeoutMs,
            fresh: e.fresh,
          })
          .then(
            (r) =>
              this.#dispatch({
                type: 'response',
                requestId: e.requestId,
                status: r.status,
                body: r.body,
                channel: r.channel?.uuid ?? null,
              }),
            (err: unknown) => {
              const reason = err instanceof TransportError ? err.code : 'CONNECT_FAILED';
              this.log.debug({ address: e.address, reason, kind: e.kind }, 'send failed');
              this.#dispatch({ type: 'send-failed', requestId: e.requestId, reason });
            },
          );
        break;
      case 'respond':
        this.#inbound.answer(e.requestId, { status: e.status, body: e.body });
        break;
      case 'set-timer': {
        const key = timerKey(e.timer);
        const old = this.#timers.get(key);
        if (old) clearTimeout(old);
        const t = setTimeout(
          () => {
            this.#timers.delete(key);
            this.#dispatch({ type: 'timer', timer: e.timer });
          },
          Math.max(0, e.at - this.#clock.now()),
        );
        t.unref();
        this.#timers.set(key, t);
        break;
      }
      case 'clear-timer': {
        const key = timerKey(e.timer);
        const t = this.#timers.get(key);
        if (t) clearTimeout(t);
        this.#timers.delete(key);
        break;
      }
      case 'deliver':
        this.emit('message', e.message);
        break;
      case 'emit':
        this.#onAppEvent(e.data);
        break;
      case 'drop':
        this.drops[e.reason] = (this.drops[e.reason] ?? 0) + 1;
        this.log.debug({ reason: e.reason, detail: e.detail }, 'dropped');
        break;
      case 'punch':
        runPunch(this.transport, e, this.#core?.cfg.punchPort ?? null, (ev) => this.#dispatch(ev));
        break;
      case 'result': {
        const c = this.#commands.get(e.commandId);
        if (!c) break;
        this.#commands.delete(e.commandId);
        if (e.ok) c.resolve(e.value);
        else c.reject(new MeshError(e.code, e.message));
        break;
      }
    }
  }

  #onAppEvent(ev: AppEvent): void {
    if (ev.event === 'self:observed') {
      this.#observed.set(ev.address, this.#clock.now());
      // Only the host matters (the port is the ephemeral source port); keep the latest few.
      if (this.#observed.size > 8) this.#observed.delete(this.#observed.keys().next().value as string);
    }
    const { event, ...data } = ev;
    this.emit(event, data);
  }

  /** Sends a command to the core; resolves with its result. */
  command<T = unknown>(command: Command): Promise<T> {
    if (!this.#core) return Promise.reject(new MeshError('NOT_STARTED', 'the node is not started'));
    const commandId = this.#nextCommand++;
    return new Promise<T>((resolve, reject) => {
      this.#commands.set(commandId, { resolve: resolve as (v: unknown) => void, reject });
      this.#dispatch({ type: 'command', commandId, command });
    });
  }

  // ------------------------------------------------------------------ library API

  /** Queues a text message to a contact (uuid or name); resolves with the message id once persisted. */
  async send(contact: string, text: string): Promise<string> {
    const c = this.findContact(contact);
    const r = await this.command<{ id: string }>({ kind: 'send', to: c.uuid, text });
    return r.id;
  }

  /** Creates an invite code. */
  invite(opts: { ttlMs?: number; noAddress?: boolean } = {}): Promise<{ code: string; expiresAt: number }> {
    return this.command({ kind: 'invite', ttlMs: opts.ttlMs, addresses: opts.noAddress ? [] : undefined });
  }

  /** Uses an invite code; resolves with the new contact and the auth phrase to compare. */
  add(code: string, name?: string): Promise<{ uuid: string; name: string; authPhrase: string }> {
    return this.command({ kind: 'add', code, name });
  }

  /** Becomes a contact of a peer with a domain (URL like https://peer.example:7575 or ip:port). */
  bootstrap(url: string): Promise<{ uuid: string; name: string }> {
    const { address, domain } = parseBootstrap(url);
    return this.command({ kind: 'bootstrap', address, domain });
  }

  /** Accepts a pending contact request. */
  accept(uuid: string): Promise<{ uuid: string }> {
    return this.command({ kind: 'accept', uuid });
  }

  /** Rejects a pending contact request. */
  reject(uuid: string): Promise<{ uuid: string }> {
    return this.command({ kind: 'reject', uuid });
  }

  /** Finds a contact by uuid, uuid prefix (≥ 8 chars) or name; throws MeshError CONTACT_UNKNOWN. */
  findContact(who: string): ContactRecord {
    const core = this.core;
    const exact = core.contact(who);
    if (exact) return exact;
    const matches = [...core.contacts()].filter((c) => c.name === who || (who.length >= 8 && c.uuid.startsWith(who)));
    if (matches.length === 1) return matches[0];
    if (matches.length > 1)
      throw MeshError.invalidArgument(`"${who}" matches ${matches.length} contacts; use the UUID`);
    throw MeshError.contactUnknown(who);
  }

  /** Contacts with online state. */
  contacts(): ContactView[] {
    const core = this.core;
    const now = this.#clock.now();
    return [...core.contacts()].map((c) => ({
      uuid: c.uuid,
      name: c.name,
      address: c.address,
      online: core.isOnline(c, now),
      lastSeen: c.lastSeen,
      status: c.status,
      domain: c.domain,
      ...contactPath(core, c, this.#channels?.isOpen(c) ?? false),
    }));
  }

  /** Pending incoming contact requests. */
  requests(): { uuid: string; name: string; authPhrase: string; receivedAt: number }[] {
    return [...this.core.requests.values()].map((r) => ({
      uuid: r.uuid,
      name: r.name,
      authPhrase: r.authPhrase,
      receivedAt: r.receivedAt,
    }));
  }

  /** Referrals currently held. */
  referrals(): { referent: string; via: string; hops: number; expiresAt: number }[] {
    const out: { referent: string; via: string; hops: number; expiresAt: number }[] = [];
    const now = this.#clock.now();
    for (const list of this.core.referralMap.values())
      for (const r of list)
        if (r.expiresAt > now) out.push({ referent: r.referent, via: r.via, hops: r.hops, expiresAt: r.expiresAt });
    return out;
  }

  /** Received messages (oldest first). */
  inbox(opts: { since?: number; limit?: number } = {}): InboxRecord[] {
    return this.store.listInbox(opts);
  }

  /** The conversation with one contact, both directions, oldest first. */
  conversation(uuid: string): ConversationItem[] {
    return conversationWith(this.store, this.uuid, uuid, (id) => this.core.outbox.get(id)?.state);
  }

  /**
   * Removes a contact (uuid, uuid prefix or name) through the core: its referrals, queued messages,
   * searches and requests go too; it is not told, and its later requests are answered as a stranger's.
   */
  async removeContact(contact: string): Promise<{ uuid: string }> {
    const c = this.findContact(contact);
    const r = await this.command<{ uuid: string }>({ kind: 'remove', uuid: c.uuid });
    // The keeper releases channels we dialled; one the removed node dialled to us is closed here.
    if (isChannelTransport(this.transport)) this.transport.releaseChannel(c.signPub);
    return r;
  }

  /** Deletes received messages older than `before` (unix ms; all when omitted); says how many. */
  clearInbox(opts: { before?: number } = {}): { deleted: number } {
    // What this turn received is stored first, so it is counted and cleared like any older row.
    this.#batch.flush();
    return { deleted: this.store.clearInbox(opts.before ?? null) };
  }

  /** Addresses: where we listen, and how peers saw us. */
  addresses(): { listen: string[]; observed: string[]; advertised: string | null } {
    return { listen: [...this.#listen], observed: [...this.#observed.keys()], advertised: this.#core?.address ?? null };
  }

  /** Node status for `mesh status`. */
  status(): NodeStatus {
    const s = this.core.status(this.#clock.now());
    const self = this.#requireSelf();
    return {
      uuid: s.uuid,
      name: self.name,
      listen: [...this.#listen],
      observed: [...this.#observed.keys()],
      contacts: s.contacts,
      referrals: s.referrals,
      outbox: s.outbox,
      drops: addCounts(this.drops, this.transport.drops?.() ?? {}),
      ...natStatus(this.core.state.nat, this.core.address, this.#nat?.mapping ?? null),
    };
  }

  /** The identity's public key (signPub ‖ boxPub, base64url). */
  publicKey(): string {
    const self = this.#requireSelf();
    const pub = new Uint8Array(64);
    pub.set(self.signPub, 0);
    pub.set(self.boxPub, 32);
    return toB64u(pub);
  }
}
