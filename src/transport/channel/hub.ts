/**
 * The channel table of one node, shared by every binding (HTTPS and memory): which channels live
 * (exactly one per pair, docs/PROTOCOL.md §13.4), which peers are kept (dial, redial with backoff),
 * routing of outgoing requests onto an open channel, and the `channel:open` / `channel:close` events.
 */
import { deriveUuid } from '../../crypto/index.ts';
import type { ChannelEvent, ChannelPeer, InboundRequest, InboundResponse, Logger } from '../../ports.ts';
import { isLanHost } from '../../protocol/observed.ts';
import { hostOf } from '../../util/address.ts';
import { Channel, type ChannelHooks, type ChannelIdentity, ChannelLost } from './channel.ts';
import {
  CHANNEL_HELLO_TIMEOUT_MS,
  CHANNEL_MAX,
  CHANNEL_PING_MS,
  CHANNEL_PROBE_MS,
  CHANNEL_QUICK_REDIAL_AFTER_MS,
  CHANNEL_QUICK_REDIAL_MS,
  CHANNEL_REDIAL_MAX_MS,
  CHANNEL_REDIAL_MIN_MS,
  CHANNEL_RIVAL_PROBE_MS,
  CHANNEL_STABLE_MS,
  CLOSE,
} from './constants.ts';
import type { ChannelDialer, ChannelLink } from './link.ts';

/** Channel options a transport accepts (all optional). */
export interface ChannelInit {
  /** Time for the HELLO exchange, ms. @default CHANNEL_HELLO_TIMEOUT_MS */
  helloTimeoutMs?: number;
  /** Ping interval, ms; two silent intervals drop the channel. @default CHANNEL_PING_MS */
  pingMs?: number;
  /** First redial delay, ms. @default CHANNEL_REDIAL_MIN_MS */
  redialMinMs?: number;
  /** Longest redial delay, ms. @default CHANNEL_REDIAL_MAX_MS */
  redialMaxMs?: number;
  /** Most open or handshaking channels. @default CHANNEL_MAX */
  maxChannels?: number;
}

/** What a binding gives the hub. */
export interface ChannelHubComponents {
  identity: ChannelIdentity;
  dial: ChannelDialer;
  /**
   * The edge pipeline for a request that came over a channel: size limit and handler guard, plus
   * the per-IP rate limit unless `trusted` (a contact's channel, held to its budget instead).
   */
  serve(req: InboundRequest, trusted: boolean): Promise<InboundResponse>;
  logger?: Logger;
}

interface Kept {
  address: string;
  signPub: Uint8Array;
  delay: number;
  timer: NodeJS.Timeout | undefined;
}

interface Dial {
  aborted: boolean;
  ch: Channel | null;
}

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');

/** Channels of one node. */
export class ChannelHub {
  /** This node's UUID (the one-per-pair rule compares it). */
  readonly uuid: string;
  private readonly open = new Map<string, Channel>();
  private readonly dials = new Map<string, Dial>();
  private readonly handshaking = new Set<Channel>();
  private readonly kept = new Map<string, Kept>();
  private readonly listeners = new Set<(e: ChannelEvent) => void>();
  private readonly hooks: ChannelHooks;
  private trusted: (peer: ChannelPeer) => boolean = () => false;
  private closed = false;

  constructor(
    private readonly c: ChannelHubComponents,
    private readonly init: ChannelInit = {},
  ) {
    this.uuid = deriveUuid(c.identity.signPub, c.identity.boxPub);
    this.hooks = {
      identity: c.identity,
      helloTimeoutMs: init.helloTimeoutMs ?? CHANNEL_HELLO_TIMEOUT_MS,
      pingMs: init.pingMs ?? CHANNEL_PING_MS,
      onAuthenticated: (ch) => this.authenticated(ch),
      onOpened: (ch) => this.emit(ch, null),
      isTrusted: (ch) => ch.peer !== null && this.trusted(ch.peer),
      onRequest: (ch, f, trusted) =>
        c.serve({ remote: ch.remote, headers: f.headers, body: f.body, channel: ch.peer as ChannelPeer }, trusted),
      onClosed: (ch, code, reason) => this.channelClosed(ch, code, reason),
    };
  }

  /** Takes an incoming link (after the upgrade); it lives once its HELLO verifies and the pair rule admits it. */
  accept(link: ChannelLink): void {
    if (this.closed) return link.close(CLOSE.GOING_AWAY, 'node stopping');
    const max = this.init.maxChannels ?? CHANNEL_MAX;
    if (this.open.size + this.handshaking.size + this.dials.size >= max) {
      return link.close(CLOSE.TRY_LATER, 'too many channels; use POST');
    }
    const ch = new Channel(link, false, this.hooks, null);
    if (ch.state === 'hello') this.handshaking.add(ch);
  }

  /**
   * Takes a link this node connected itself outside `keep` (a hole-punched socket, docs/PROTOCOL.md
   * §17) as a channel it dialled to `signPub`: the same HELLO and one-per-pair rule as a dial.
   */
  adopt(link: ChannelLink, signPub: Uint8Array): void {
    if (this.closed) return link.close(CLOSE.GOING_AWAY, 'node stopping');
    const ch = new Channel(link, true, this.hooks, new Uint8Array(signPub));
    if (ch.state === 'hello') this.handshaking.add(ch);
  }

  /** Keeps a channel to `signPub` at `address`: dials unless one is open or being dialled. */
  keep(address: string, signPub: Uint8Array): void {
    if (this.closed) return;
    const key = hex(signPub);
    const k = this.kept.get(key);
    if (k) {
      k.address = address;
      if (k.timer) return; // backing off: a second keep must not defeat the backoff
    } else {
      this.kept.set(key, { address, signPub: new Uint8Array(signPub), delay: this.minDelay, timer: undefined });
    }
    this.ensure(key);
  }

  /** Stops keeping `signPub` and closes its channel. */
  release(signPub: Uint8Array): void {
    const key = hex(signPub);
    const k = this.kept.get(key);
    if (k) clearTimeout(k.timer);
    this.kept.delete(key);
    const d = this.dials.get(key);
    if (d) {
      d.aborted = true;
      d.ch?.close(CLOSE.NORMAL, 'released');
    }
    this.open.get(key)?.close(CLOSE.NORMAL, 'released');
  }

  /** The peer of the open channel to `signPub`, or null. */
  channelTo(signPub: Uint8Array): ChannelPeer | null {
    return this.open.get(hex(signPub))?.peer ?? null;
  }

  /** Says which channel peers are trusted (contacts: budget + backpressure instead of the per-IP limit). */
  trust(trusted: (peer: ChannelPeer) => boolean): void {
    this.trusted = trusted;
  }

  /**
   * Sends over the open channel to `signPub`; null when there is none (the caller uses POST). The
   * channel's HELLOs authenticated both ends, so `Mesh-Secret` is left off (docs/PROTOCOL.md §13.8);
   * the caller's headers keep it, so the same request stays valid when it goes by POST instead.
   */
  request(
    signPub: Uint8Array,
    headers: Record<string, string>,
    body: Uint8Array,
    timeoutMs: number,
    fallback?: () => Promise<InboundResponse>,
  ): Promise<InboundResponse> | null {
    const ch = this.open.get(hex(signPub));
    if (!ch) return null;
    const h = channelHeaders(headers);
    const sent = ch.request(h, body, timeoutMs);
    // The channel closed under the request: send it again over the channel that replaced it (a peer
    // whose address changed dialled a new one), else POST it as the caller built it (with its
    // Mesh-Secret). Safe to repeat: a peer that already took it answers by its replay and duplicate rules.
    return sent && fallback
      ? sent.catch((err) => {
          if (!(err instanceof ChannelLost)) return Promise.reject(err);
          const next = this.open.get(hex(signPub));
          return (next && next !== ch && next.request(h, body, timeoutMs)) || fallback();
        })
      : sent;
  }

  /** Subscribes to channel events. */
  on(listener: (e: ChannelEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Number of open channels (diagnostics, tests). */
  get size(): number {
    return this.open.size;
  }

  /**
   * Our network changed (another interface address: docs/PROTOCOL.md §15.5): every connection from
   * the old address is dead without a word. Drops every channel and dial at once and redials each
   * kept peer now, from the new address, instead of waiting two ping intervals for each loss.
   */
  reset(): void {
    if (this.closed) return;
    for (const d of this.dials.values()) {
      d.aborted = true;
      d.ch?.close(CLOSE.GOING_AWAY, 'network changed');
    }
    this.dials.clear();
    for (const ch of [...this.handshaking, ...this.open.values()]) ch.drop('network changed');
    for (const [key, k] of this.kept) {
      clearTimeout(k.timer);
      k.timer = undefined;
      k.delay = this.minDelay;
      this.ensure(key);
    }
  }

  /**
   * Pings the channel we dialled longest ago, to a public (non-LAN) address if any, dropping it unless the
   * peer answers within CHANNEL_PROBE_MS. A node behind a NAT without a mapping calls this now and
   * then (§15.5): a new WAN address resets every connection through the NAT on its next packet, and
   * this packet finds out, instead of the next ping up to CHANNEL_PING_MS later. False: no such channel.
   */
  probeOne(): boolean {
    // A channel across the NAT sees a new WAN address; a LAN one (no NAT between) only if nothing else.
    const rank = (ch: Channel) => (isLanHost(hostOf(ch.remote)) ? 1 : 0);
    let best: Channel | null = null;
    for (const ch of this.open.values())
      if (ch.dialled && (!best || rank(ch) < rank(best) || (rank(ch) === rank(best) && ch.openedAt < best.openedAt)))
        best = ch;
    best?.probe(CHANNEL_PROBE_MS);
    return best !== null;
  }

  /** Closes every channel (1001) and stops redialling. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    for (const k of this.kept.values()) clearTimeout(k.timer);
    this.kept.clear();
    for (const d of this.dials.values()) {
      d.aborted = true;
      d.ch?.close(CLOSE.GOING_AWAY, 'node stopping');
    }
    for (const ch of [...this.handshaking, ...this.open.values()]) ch.close(CLOSE.GOING_AWAY, 'node stopping');
  }

  private get minDelay(): number {
    return this.init.redialMinMs ?? CHANNEL_REDIAL_MIN_MS;
  }

  private ensure(key: string): void {
    const k = this.kept.get(key);
    if (this.closed || !k || this.open.has(key) || this.dials.has(key)) return;
    const d: Dial = { aborted: false, ch: null };
    this.dials.set(key, d);
    this.c.dial(k.address, k.signPub).then(
      (link) => {
        if (d.aborted || this.closed) {
          link.close(CLOSE.DUPLICATE, 'dial no longer needed');
          if (this.dials.get(key) === d) this.dials.delete(key);
          return;
        }
        d.ch = new Channel(link, true, this.hooks, k.signPub);
      },
      (err: unknown) => {
        if (this.dials.get(key) === d) this.dials.delete(key);
        this.c.logger?.debug({ err, address: k.address }, 'mesh channel: dial failed');
        if (!d.aborted && !this.closed)
          this.notify({ type: 'channel:unreached', signPub: k.signPub, remote: k.address });
        this.redial(key);
      },
    );
  }

  /** Schedules the next dial to a kept peer with exponential backoff and ±20 % jitter (no synchronised redials). */
  private redial(key: string): void {
    const k = this.kept.get(key);
    if (this.closed || !k || k.timer || this.open.has(key) || this.dials.has(key)) return;
    const delay = k.delay * (0.8 + 0.4 * Math.random());
    k.delay = Math.min(k.delay * 2, this.init.redialMaxMs ?? CHANNEL_REDIAL_MAX_MS);
    k.timer = setTimeout(() => {
      k.timer = undefined;
      this.ensure(key);
    }, delay);
  }

  /**
   * The one-per-pair rule (docs/PROTOCOL.md §13.4). A newly authenticated channel `ch` meets a rival (an
   * open channel to the same peer, or our own dial to it still in progress). Both ends apply the same
   * rule, so they keep the same channel without a word: when the two were dialled by different ends,
   * the channel dialled by the lower UUID wins; when the same end dialled both, the newer wins (the
   * dialer lost the old one, even if we have not noticed yet).
   */
  private authenticated(ch: Channel): boolean | 'later' {
    const peer = ch.peer as ChannelPeer;
    const key = hex(peer.signPub);
    this.handshaking.delete(ch);
    const ours = this.dials.get(key);
    if (ch.dialled && ours?.ch === ch) this.dials.delete(key);
    if (this.closed) {
      ch.close(CLOSE.GOING_AWAY, 'node stopping');
      return false;
    }
    const cur = this.open.get(key);
    // A dial of ours that has no connection yet is no rival: the peer cannot hold a channel of ours
    // before our link is up, so both ends still decide alike — and a dial to an address that does
    // not answer (a peer behind a NAT: §15, the dial hangs until its timeout) no longer refuses the
    // channel that peer dialled to us.
    const rivalDialledByUs = cur ? cur.dialled : ours && ours.ch !== null && ours.ch !== ch ? true : null;
    if (rivalDialledByUs !== null && rivalDialledByUs !== ch.dialled) {
      const lowerDialledCh = ch.dialled === this.uuid < peer.uuid;
      if (!lowerDialledCh) {
        if (cur && !ch.dialled) {
          // The peer dials only when it holds no channel to us: ours may be dead on a path that broke
          // silently (it moved, its NAT changed). Ask ours first; the peer waits for our HELLO.
          this.handshaking.add(ch);
          cur.probe(
            CHANNEL_RIVAL_PROBE_MS,
            () => this.replaceDead(key, cur, ch),
            () => {
              this.handshaking.delete(ch);
              ch.close(CLOSE.DUPLICATE, 'the other channel of this pair wins');
            },
          );
          return 'later';
        }
        ch.close(CLOSE.DUPLICATE, 'the other channel of this pair wins');
        return false;
      }
    }
    // `ch` wins. It enters the table first, so the rivals' closes are not taken for a loss (no redial).
    this.open.set(key, ch);
    if (cur) {
      const code = cur.dialled === ch.dialled ? CLOSE.NORMAL : CLOSE.DUPLICATE;
      cur.close(code, 'replaced by the winning channel of this pair');
      this.emit(cur, { code, reason: 'replaced' });
    }
    if (ours && ours.ch !== ch) {
      this.dials.delete(key);
      ours.aborted = true;
      ours.ch?.close(CLOSE.DUPLICATE, 'the other channel of this pair wins');
    }
    return true;
  }

  /** Our channel `dead` did not answer a probe: the peer's newer channel `ch` (waiting for our HELLO) takes its place. */
  private replaceDead(key: string, dead: Channel, ch: Channel): void {
    this.handshaking.delete(ch);
    if (ch.state !== 'hello') return; // the peer gave up meanwhile
    if (this.closed || (this.open.has(key) && this.open.get(key) !== dead)) {
      ch.close(CLOSE.DUPLICATE, 'the other channel of this pair wins');
      return;
    }
    // `ch` enters the table first: requests in flight on `dead` are sent again on it (request()).
    this.open.set(key, ch);
    if (dead.state !== 'closed') {
      dead.drop('no answer to a probe');
      this.emit(dead, { code: CLOSE.GOING_AWAY, reason: 'no answer to a probe' });
    }
    ch.admitLater();
  }

  private channelClosed(ch: Channel, code: number, reason: string): void {
    this.handshaking.delete(ch);
    if (ch.dialled && ch.expectSignPub) {
      const dkey = hex(ch.expectSignPub);
      if (this.dials.get(dkey)?.ch === ch) this.dials.delete(dkey);
    }
    const peer = ch.peer;
    const key = peer ? hex(peer.signPub) : ch.expectSignPub ? hex(ch.expectSignPub) : null;
    if (peer && key && this.open.get(key) === ch) {
      this.open.delete(key);
      const k = this.kept.get(key);
      const lived = Date.now() - ch.openedAt;
      const stable = lived >= CHANNEL_STABLE_MS;
      if (k && stable) k.delay = this.minDelay;
      this.emit(ch, { code, reason });
      // A channel we dialled that had lived a while broke (reset, ping timeout): our address may
      // have changed (a new WAN address resets every connection through the NAT). Redial at once
      // (with a little jitter), so the peer hears from our new address, before any backoff.
      if (
        k &&
        lived >= CHANNEL_QUICK_REDIAL_AFTER_MS &&
        ch.dialled &&
        code !== CLOSE.NORMAL &&
        code !== CLOSE.DUPLICATE
      ) {
        // The others may have broken with it (same NAT): ask them now rather than at their next ping.
        for (const other of this.open.values()) if (other.dialled) other.probe(CHANNEL_PROBE_MS);
        k.timer = setTimeout(() => {
          k.timer = undefined;
          this.ensure(key);
        }, Math.random() * CHANNEL_QUICK_REDIAL_MS);
        return;
      }
    }
    if (key) this.redial(key);
  }

  private emit(ch: Channel, closed: { code: number; reason: string } | null): void {
    const peer = ch.peer as ChannelPeer;
    const e: ChannelEvent = closed
      ? { type: 'channel:close', peer, remote: ch.remote, dialled: ch.dialled, ...closed }
      : { type: 'channel:open', peer, remote: ch.remote, dialled: ch.dialled };
    this.notify(e);
  }

  private notify(e: ChannelEvent): void {
    for (const l of this.listeners) {
      try {
        l(e);
      } catch (err) {
        this.c.logger?.error({ err }, 'mesh channel: event listener threw');
      }
    }
  }
}

/**
 * The headers a REQUEST frame carries: names lower-cased, values as strings, `Mesh-Secret` left
 * off. One pass into a fresh object (no `delete`, which would turn it into a slow dictionary).
 */
function channelHeaders(headers: Record<string, string>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const k in headers) {
    const v = headers[k] as string | string[] | undefined;
    if (v === undefined) continue;
    const name = k.toLowerCase();
    if (name !== 'mesh-secret') out[name] = Array.isArray(v) ? v.join(', ') : String(v);
  }
  return out;
}
