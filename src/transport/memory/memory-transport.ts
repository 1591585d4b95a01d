/**
 * In-memory transport for tests and the simulator: same edge semantics as HTTPS (size limit,
 * rate limit, error JSON, pins, CONNECT_FAILED / TIMEOUT), real timers for latency.
 */
import type {
  ChannelPeer,
  ChannelTransport,
  InboundResponse,
  OutboundRequest,
  PunchRequest,
  RequestHandler,
} from '../../ports.ts';
import { TransportError } from '../../ports.ts';
import { DEFAULT_PORT } from '../../protocol/constants.ts';
import { formatAddress, parseAddress } from '../../util/address.ts';
import { ChannelBinding } from '../channel/binding.ts';
import { ChannelHub, type ChannelInit } from '../channel/hub.ts';
import type { ChannelLink } from '../channel/link.ts';
import { Edge, type EdgeInit, errorReply, lowerHeaders } from '../edge.ts';
import { MemoryLinks } from './memory-channel.ts';
import { type MemoryMapping, MemoryPunchBoard } from './memory-punch.ts';

/** Options of a {@link MemoryNetwork}. */
export interface MemoryNetworkInit {
  /** One-way latency, ms (applied to the request and to the response). @default 0 */
  latencyMs?: number;
  /** Extra random one-way latency in [0, jitterMs), ms. @default 0 */
  jitterMs?: number;
  /** Probability a request is lost (the caller then times out). @default 0 */
  dropRate?: number;
  /** Random source in [0, 1). @default Math.random */
  random?: () => number;
}

/** Options of one transport on a {@link MemoryNetwork}. */
export interface MemoryTransportOptions extends EdgeInit {
  /** Identity key the node's "certificate" holds; checked against `pin.signPub`. */
  signPub?: Uint8Array;
  /** DNS name the node's "CA certificate" is valid for; checked against `pin.domain`. */
  domain?: string;
  /** Ed25519 seed of the identity; with `signPub` and `boxPub` it enables the channel binding. */
  signPriv?: Uint8Array;
  /** X25519 public key of the identity (the channel HELLO carries it; the peer derives our UUID). */
  boxPub?: Uint8Array;
  /** Channel timings and limits. */
  channel?: ChannelInit;
  /** Punch port (docs/PROTOCOL.md §17.1): channels are dialled from it; enables `punch`. @default none */
  punchPort?: number;
}

interface Endpoint {
  transport: MemoryTransport;
  handler: RequestHandler | null;
  online: boolean;
  /** Behind a NAT (PROTOCOL.md §15): peers see `publicHost`; only a mapped port can be dialled from outside. */
  nat?: { publicHost: string; mappedPort: number | null };
  /** False for a node behind a NAT: nobody can dial it (POST or channel); its own dials and channels work. */
  dialable: boolean;
}

/** A simulated network of {@link MemoryTransport}s keyed by address ("ip:port"). */
export class MemoryNetwork {
  private readonly endpoints = new Map<string, Endpoint>();
  private nextPort = 0;
  /** @internal */
  readonly random: () => number;
  /** @internal Open channel links (broken when a node goes offline or moves). */
  readonly links: MemoryLinks;
  /** @internal Hole punches in progress (memory-punch.ts). */
  readonly punches: MemoryPunchBoard;
  /** @internal Punch-port mapping of nodes behind a NAT (setPunchMapping). */
  readonly mappings = new Map<string, MemoryMapping>();

  constructor(private readonly init: MemoryNetworkInit = {}) {
    this.random = init.random ?? Math.random;
    this.links = new MemoryLinks(this);
    this.punches = new MemoryPunchBoard(this);
  }

  /** How the router of the node at `address` maps its punch port: `preserve` (default) or `random` (symmetric NAT). */
  setPunchMapping(address: string, mapping: MemoryMapping): void {
    this.mappings.set(normalise(address), mapping);
  }

  /** Creates the transport of the node at `address` (it is reachable once it listens). */
  transport(address: string, opts: MemoryTransportOptions = {}): MemoryTransport {
    const key = normalise(address);
    if (this.endpoints.has(key)) throw new Error(`MemoryNetwork: address ${key} is already in use`);
    const t = new MemoryTransport(this, key, opts);
    this.endpoints.set(key, { transport: t, handler: null, online: true, dialable: true });
    return t;
  }

  /** Takes the node at `address` off the network (CONNECT_FAILED to callers; its own calls fail) or back on. */
  setOnline(address: string, online: boolean): void {
    const ep = this.endpoints.get(normalise(address));
    if (!ep) throw new Error(`MemoryNetwork: no node at ${address}`);
    ep.online = online;
    if (!online) this.links.breakAll(ep.transport, 'offline');
  }

  /**
   * Puts the node at `address` behind a NAT (`dialable` false) or in the open: while undialable, POSTs
   * and channel dials to it fail with CONNECT_FAILED; channels it dialled itself carry traffic both ways.
   */
  setDialable(address: string, dialable: boolean): void {
    const ep = this.endpoints.get(normalise(address));
    if (!ep) throw new Error(`MemoryNetwork: no node at ${address}`);
    ep.dialable = dialable;
  }

  /** Moves the node at `oldAddress` to `newAddress` (a new IP); the old address becomes unreachable. */
  move(oldAddress: string, newAddress: string): void {
    const from = normalise(oldAddress);
    const to = normalise(newAddress);
    const ep = this.endpoints.get(from);
    if (!ep) throw new Error(`MemoryNetwork: no node at ${oldAddress}`);
    if (this.endpoints.has(to)) throw new Error(`MemoryNetwork: address ${to} is already in use`);
    this.endpoints.delete(from);
    this.endpoints.set(to, ep);
    ep.transport.address = to;
    this.links.breakAll(ep.transport, 'moved');
  }

  /**
   * Puts the node at `address` behind a NAT whose public host is `publicHost` (null: no NAT).
   * Peers outside see its requests come from `publicHost`; they cannot dial its own address, only
   * `publicHost:mappedPort` when the router maps one. Nodes behind the same public host are on one
   * LAN and reach each other at their own addresses (no hairpinning through the public host).
   */
  setNat(address: string, publicHost: string | null, mappedPort: number | null = null): void {
    const ep = this.endpoints.get(normalise(address));
    if (!ep) throw new Error(`MemoryNetwork: no node at ${address}`);
    ep.nat = publicHost === null ? undefined : { publicHost, mappedPort };
  }

  /** @internal Where a call from `from` to `to` lands and the host the callee sees, or null when it cannot be dialled. */
  route(from: string, to: string): { ep: Endpoint; host: string } | null {
    const src = this.endpoints.get(from);
    const srcPublic = src?.nat?.publicHost ?? null;
    let ep = this.endpoints.get(to);
    if (ep?.nat && ep.nat.publicHost !== srcPublic) return null;
    if (!ep) {
      const { host, port } = parseAddress(to, DEFAULT_PORT);
      if (host === srcPublic) return null; // no hairpinning
      ep = [...this.endpoints.values()].find((e) => e.nat?.publicHost === host && e.nat.mappedPort === port);
      if (!ep) return null;
    }
    const sameLan = srcPublic !== null && ep.nat?.publicHost === srcPublic;
    return { ep, host: srcPublic !== null && !sameLan ? srcPublic : parseAddress(from, DEFAULT_PORT).host };
  }

  /** Addresses currently registered (online or not). */
  addresses(): string[] {
    return [...this.endpoints.keys()];
  }

  /** @internal */
  endpoint(address: string): Endpoint | undefined {
    return this.endpoints.get(address);
  }

  /** @internal */
  remove(t: MemoryTransport): void {
    const ep = this.endpoints.get(t.address);
    if (ep?.transport === t) this.endpoints.delete(t.address);
  }

  /** @internal One-way delay, ms. */
  delay(): number {
    const { latencyMs = 0, jitterMs = 0 } = this.init;
    return latencyMs + (jitterMs > 0 ? this.random() * jitterMs : 0);
  }

  /** @internal */
  dropped(): boolean {
    const p = this.init.dropRate ?? 0;
    return p > 0 && this.random() < p;
  }

  /** @internal Ephemeral-looking source port 40000–60999 for the next call. */
  ephemeralPort(): number {
    const p = 40_000 + (this.nextPort % 21_000);
    this.nextPort++;
    return p;
  }
}

/** A node's transport on a {@link MemoryNetwork}; created with {@link MemoryNetwork.transport}. */
export class MemoryTransport extends ChannelBinding implements ChannelTransport {
  protected readonly edge: Edge;
  protected readonly hub: ChannelHub | null;
  private readonly pending = new Set<{ timer: NodeJS.Timeout; fail: (e: TransportError) => void }>();
  private closed = false;
  /** Expected identity key and domain of this node (what a TLS client would see). */
  readonly signPub: Uint8Array | undefined;
  readonly domain: string | undefined;
  /** The punch port (docs/PROTOCOL.md §17.1), or undefined. */
  readonly punchPort: number | undefined;

  /** @internal use MemoryNetwork.transport() */
  constructor(
    private readonly net: MemoryNetwork,
    /** Current address (changes on MemoryNetwork.move). */
    public address: string,
    opts: MemoryTransportOptions,
  ) {
    super();
    this.edge = new Edge(opts);
    this.signPub = opts.signPub;
    this.domain = opts.domain;
    this.punchPort = opts.punchPort;
    const { signPriv, signPub, boxPub } = opts;
    this.hub =
      signPriv && signPub && boxPub
        ? new ChannelHub(
            {
              identity: { signPriv, signPub, boxPub },
              dial: (address, pin) => this.dialLink(address, pin),
              serve: (req, trusted) => {
                const handler = this.net.endpoint(this.address)?.handler;
                if (!handler) return Promise.resolve(errorReply('UNAVAILABLE', 'The node is not serving.'));
                return this.edge.serve(handler, req, trusted);
              },
              logger: opts.logger,
            },
            opts.channel,
          )
        : null;
  }

  /** Starts answering requests; resolves with the node's address. */
  async listen(handler: RequestHandler): Promise<string> {
    if (this.closed) throw new Error('MemoryTransport is closed');
    const ep = this.net.endpoint(this.address);
    if (!ep || ep.transport !== this) throw new Error('MemoryTransport is not on the network');
    if (ep.handler) throw new Error('MemoryTransport is already listening');
    ep.handler = handler;
    return this.address;
  }

  /** Delivers one request after the network latency; same errors as the HTTPS transport. */
  request(req: OutboundRequest): Promise<InboundResponse> {
    if (this.closed) return Promise.reject(new TransportError('ABORTED', 'Transport is closed'));
    const post = () => this.post(req); // also the fallback when the channel is lost under the request
    const viaChannel =
      !req.fresh && req.pin?.signPub && this.hub?.request(req.pin.signPub, req.headers, req.body, req.timeoutMs, post);
    return viaChannel || post();
  }

  private post(req: OutboundRequest): Promise<InboundResponse> {
    return new Promise<InboundResponse>((resolve, reject) => {
      let settled = false;
      const timers: NodeJS.Timeout[] = [];
      const entry = {
        timer: undefined as unknown as NodeJS.Timeout,
        fail: (e: TransportError) => finish(() => reject(e)),
      };
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        for (const t of timers) clearTimeout(t);
        this.pending.delete(entry);
        f();
      };
      const later = (ms: number, f: () => void) => timers.push(setTimeout(f, ms));
      entry.timer = setTimeout(
        () => entry.fail(new TransportError('TIMEOUT', `No answer from ${req.address} within ${req.timeoutMs} ms`)),
        req.timeoutMs,
      );
      timers.push(entry.timer);
      this.pending.add(entry);

      // Copy now: the caller may reuse its buffers.
      const body = new Uint8Array(req.body);
      const headers = lowerHeaders(req.headers);
      const sendDelay = this.net.delay();
      if (this.net.dropped()) return; // lost on the wire: the caller times out

      later(sendDelay, () => {
        const self = this.net.endpoint(this.address);
        let target: string;
        try {
          target = normalise(req.address);
        } catch (err) {
          return entry.fail(new TransportError('CONNECT_FAILED', `Bad address "${req.address}"`, { cause: err }));
        }
        const routed = this.net.route(this.address, target);
        const ep = routed?.ep;
        if (!self?.online || !ep?.online || !ep.handler || !ep.dialable) {
          return entry.fail(new TransportError('CONNECT_FAILED', `Cannot reach ${req.address}: connection refused`));
        }
        const peer = ep.transport;
        if (req.pin?.signPub && !(peer.signPub && Buffer.from(peer.signPub).equals(Buffer.from(req.pin.signPub)))) {
          return entry.fail(
            new TransportError('TLS_PIN', `Server at ${req.address} does not hold the pinned identity key`),
          );
        }
        if (!req.pin?.signPub && req.pin?.domain && peer.domain !== req.pin.domain) {
          return entry.fail(
            new TransportError('TLS_PIN', `Certificate of ${req.address} is not valid for ${req.pin.domain}`),
          );
        }
        const remote = formatAddress({ host: routed?.host as string, port: this.net.ephemeralPort() });
        const handler = ep.handler;
        void peer.edge.serve(handler, { remote, headers, body }).then((r) => {
          if (settled) return;
          later(this.net.delay(), () => finish(() => resolve({ status: r.status, body: new Uint8Array(r.body) })));
        });
      });
    });
  }

  /**
   * @internal Dials an unauthenticated channel link (the hub does the HELLO; tests forge it): the
   * "upgrade" after one delay, with the same pin, reachability and rate-limit checks as a POST.
   */
  dialLink(address: string, signPub: Uint8Array): Promise<ChannelLink> {
    return new Promise<ChannelLink>((resolve, reject) => {
      setTimeout(() => {
        let target: string;
        try {
          target = normalise(address);
        } catch (err) {
          return reject(new TransportError('CONNECT_FAILED', `Bad address "${address}"`, { cause: err }));
        }
        const self = this.net.endpoint(this.address);
        const routed = this.net.route(this.address, target);
        const ep = routed?.ep;
        if (this.closed || !self?.online || !ep?.online || !ep.handler || !ep.dialable) {
          return reject(new TransportError('CONNECT_FAILED', `Cannot reach ${address}: connection refused`));
        }
        const peer = ep.transport;
        if (!(peer.signPub && Buffer.from(peer.signPub).equals(Buffer.from(signPub)))) {
          return reject(new TransportError('TLS_PIN', `Server at ${address} does not hold the pinned identity key`));
        }
        const remote = formatAddress({ host: routed?.host as string, port: this.sourcePort() });
        // The upgrade is an HTTP request: the same per-IP limit; a POST-only peer answers 404.
        const refused = peer.edge.admit(remote) ?? (peer.hub ? null : { status: 404 });
        if (refused) {
          return reject(
            new TransportError('CONNECT_FAILED', `Channel upgrade refused by ${address} (${refused.status})`),
          );
        }
        const [mine, theirs] = this.net.links.pair(this, peer, target, remote);
        (peer.hub as ChannelHub).accept(theirs);
        setTimeout(() => resolve(mine), this.net.delay());
      }, this.net.delay());
    });
  }

  /** Where a dialled channel comes from: the punch port when set and the router keeps it, else ephemeral. */
  private sourcePort(): number {
    const mapping = this.net.mappings.get(this.address) ?? 'preserve';
    return this.punchPort && mapping === 'preserve' ? this.punchPort : this.net.ephemeralPort();
  }

  /** Hole punching on the memory network's model (memory-punch.ts, docs/PROTOCOL.md §17). */
  async punch(o: PunchRequest): Promise<{ peer: ChannelPeer; remote: string }> {
    if (!this.hub || !this.signPub) throw new TypeError("MemoryTransport: punching needs the identity's keys");
    const { host } = parseAddress(this.address, DEFAULT_PORT);
    const side = {
      owner: this,
      signPub: this.signPub,
      hub: this.hub,
      host: this.net.endpoint(this.address)?.nat?.publicHost ?? host,
      mapping: this.net.mappings.get(this.address) ?? 'preserve',
    };
    return this.net.punches.punch(side, o);
  }

  /** Leaves the network; this node's pending calls reject with ABORTED. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub?.close();
    this.net.links.breakAll(this, 'closed');
    this.net.remove(this);
    for (const p of [...this.pending]) p.fail(new TransportError('ABORTED', 'Transport closed'));
  }
}

function normalise(address: string): string {
  return formatAddress(parseAddress(address, DEFAULT_PORT));
}
