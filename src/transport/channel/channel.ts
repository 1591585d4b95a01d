/**
 * One channel over one link: the HELLO exchange that authenticates both ends and binds them to the
 * session's exporter, then REQUEST/RESPONSE multiplexing by id in both directions, and keep-alive
 * pings. The hub (`hub.ts`) decides which channels live (one per pair) and routes requests.
 */
import { deriveUuid, signEd25519, verifyEd25519 } from '../../crypto/index.ts';
import type { ChannelPeer, InboundResponse } from '../../ports.ts';
import { TransportError } from '../../ports.ts';
import {
  CHANNEL_VERSION,
  decodeFrame,
  encodeFrame,
  type Frame,
  type HelloFrame,
  type HelloRole,
  helloSigningInput,
  MAX_FRAME_BYTES,
  type RequestFrame,
} from '../channel-frames.ts';
import { errorReply, internalReply } from '../edge.ts';
import { Budget } from './budget.ts';
import { CHANNEL_MAX_INFLIGHT, CHANNEL_MAX_QUEUED, CLOSE } from './constants.ts';
import type { ChannelLink } from './link.ts';

/** The node's own identity as the channel proves it. */
export interface ChannelIdentity {
  signPriv: Uint8Array;
  signPub: Uint8Array;
  boxPub: Uint8Array;
}

/** What the hub gives each channel. */
export interface ChannelHooks {
  identity: ChannelIdentity;
  helloTimeoutMs: number;
  pingMs: number;
  maxFrameBytes?: number;
  /**
   * Authenticated: the hub says whether this channel may live (one per pair); false = it already
   * closed it; 'later' = it decides after a probe (then `admitLater` or a close).
   */
  onAuthenticated(ch: Channel): boolean | 'later';
  /** The channel is open (after `admit`): the hub emits `channel:open`. */
  onOpened(ch: Channel): void;
  /** Whether the channel's peer is trusted (a contact): budget + backpressure instead of the per-IP limit. */
  isTrusted(ch: Channel): boolean;
  /** A REQUEST from the peer; resolves with the answer (the edge's pipeline; `trusted` skips the per-IP limit). */
  onRequest(ch: Channel, frame: RequestFrame, trusted: boolean): Promise<InboundResponse>;
  /** The link closed (after or before authentication). */
  onClosed(ch: Channel, code: number, reason: string): void;
}

interface Pending {
  resolve: (r: InboundResponse) => void;
  reject: (e: TransportError) => void;
  /** When it times out (`Date.now()` ms); one channel timer watches the earliest (see `armDeadline`). */
  deadline: number;
  timeoutMs: number;
}

/** A request of ours waiting for a free slot (the peer has CHANNEL_MAX_INFLIGHT of ours unanswered). */
interface Waiting extends Pending {
  headers: Record<string, string>;
  body: Uint8Array;
}

/** A request failed because its channel closed (it may or may not have been processed); the caller may POST it. */
export class ChannelLost extends TransportError {
  constructor(message: string) {
    super('CONNECT_FAILED', message);
  }
}

/** Builds the HELLO frame bytes for `role` over `exporter` (exported for the golden vectors). */
export function buildHello(id: ChannelIdentity, role: HelloRole, exporter: Uint8Array): Uint8Array {
  const signature = signEd25519(id.signPriv, helloSigningInput(role, exporter, id.signPub, id.boxPub));
  const enc = encodeFrame({
    kind: 'hello',
    version: CHANNEL_VERSION,
    role,
    signPub: id.signPub,
    boxPub: id.boxPub,
    signature,
  });
  if (!enc.ok) throw new TypeError(`cannot encode HELLO: ${enc.reason}`); // our own keys: a caller mistake
  return enc.bytes;
}

/** Checks a HELLO of `role` against this session's exporter; the peer's identity, or null. */
export function checkHello(f: HelloFrame, role: HelloRole, exporter: Uint8Array): ChannelPeer | null {
  if (f.role !== role) return null;
  const input = helloSigningInput(role, exporter, f.signPub, f.boxPub);
  if (!verifyEd25519(f.signPub, input, f.signature)) return null;
  try {
    return { signPub: f.signPub, boxPub: f.boxPub, uuid: deriveUuid(f.signPub, f.boxPub) };
  } catch {
    return null;
  }
}

/** One channel: `dialled` = this node opened the connection. */
export class Channel {
  state: 'hello' | 'open' | 'closed' = 'hello';
  peer: ChannelPeer | null = null;
  openedAt = 0;
  private readonly pending = new Map<number, Pending>();
  /** Our requests queued behind the in-flight window (sender-side backpressure, not a fallback to POST). */
  private readonly waiting: Waiting[] = [];
  /** The peer's requests not yet served: held while its budget is spent (receiver-side backpressure). */
  private readonly held: RequestFrame[] = [];
  private holdTimer: NodeJS.Timeout | undefined;
  /** Fires at the earliest deadline of our requests: one timer per channel, not one per request. */
  private deadlineTimer: NodeJS.Timeout | undefined;
  private deadlineAt = Number.POSITIVE_INFINITY;
  private budget: Budget | null = null;
  private inbound = 0;
  private nextId = 1;
  private lastHeard = Date.now();
  private helloTimer: NodeJS.Timeout | undefined;
  private pingTimer: NodeJS.Timeout | undefined;

  constructor(
    readonly link: ChannelLink,
    readonly dialled: boolean,
    private readonly hooks: ChannelHooks,
    /** Dialer: the key the TLS pin already checked; the HELLO must carry the same one. */
    readonly expectSignPub: Uint8Array | null,
  ) {
    link.onMessage = (b) => this.onMessage(b);
    link.onClose = (code, reason) => this.closed(code, reason);
    link.onPong = () => {
      this.lastHeard = Date.now();
    };
    this.helloTimer = setTimeout(() => this.close(CLOSE.TIMEOUT, 'no HELLO in time'), hooks.helloTimeoutMs);
    // A channel still waiting for its HELLO is no reason to keep a stopping process alive.
    this.helloTimer.unref?.();
    // The dialer speaks first; the listener answers only once the hub admitted the channel.
    if (dialled) link.send(buildHello(hooks.identity, 0, link.exporter));
  }

  /** The remote socket address. */
  get remote(): string {
    return this.link.remote;
  }

  /** Number of our requests waiting for an answer. */
  get inFlight(): number {
    return this.pending.size;
  }

  /**
   * Sends one request and resolves with the peer's answer; null when the frame cannot travel (use
   * POST). With CHANNEL_MAX_INFLIGHT of ours unanswered, the request waits here for a slot (up to
   * CHANNEL_MAX_QUEUED): going by POST instead would meet the per-IP rate limit and stall.
   */
  request(headers: Record<string, string>, body: Uint8Array, timeoutMs: number): Promise<InboundResponse> | null {
    if (this.state !== 'open' || this.waiting.length >= CHANNEL_MAX_QUEUED) return null;
    // Too big for one frame: POST (whose edge judges the size).
    if (body.byteLength + 16 * 1024 > this.maxFrame) return null;
    return new Promise<InboundResponse>((resolve, reject) => {
      const deadline = Date.now() + timeoutMs;
      this.waiting.push({ resolve, reject, headers, body, deadline, timeoutMs });
      if (deadline < this.deadlineAt) this.armDeadline(deadline);
      this.drain();
    });
  }

  /**
   * Arms the channel's one request timer for `at`. A timer per request (set and cleared for every
   * message) was a measurable share of the send path; requests mostly share one timeout, so the
   * earliest deadline moves on only when its timer fires.
   */
  private armDeadline(at: number): void {
    clearTimeout(this.deadlineTimer);
    this.deadlineAt = at;
    this.deadlineTimer = setTimeout(() => this.expire(), Math.max(0, at - Date.now()));
    // It may outlive the last answer by up to a timeout: not a reason to keep a process alive (the
    // open socket under a request in flight is one already, and a closed channel clears this timer).
    this.deadlineTimer.unref?.();
  }

  /** Times out the requests whose deadline passed; re-arms for the next one. */
  private expire(): void {
    this.deadlineTimer = undefined;
    this.deadlineAt = Number.POSITIVE_INFINITY;
    const now = Date.now();
    let next = Number.POSITIVE_INFINITY;
    const late: Pending[] = [];
    for (let i = 0; i < this.waiting.length; ) {
      const w = this.waiting[i];
      if (w.deadline <= now) {
        this.waiting.splice(i, 1);
        late.push(w);
      } else {
        next = Math.min(next, w.deadline);
        i++;
      }
    }
    for (const [id, p] of this.pending) {
      if (p.deadline <= now) {
        this.pending.delete(id);
        late.push(p);
      } else next = Math.min(next, p.deadline);
    }
    if (next !== Number.POSITIVE_INFINITY) this.armDeadline(next);
    for (const p of late)
      p.reject(new TransportError('TIMEOUT', `No answer from ${this.remote} within ${p.timeoutMs} ms (channel)`));
    if (late.length > 0) this.drain();
  }

  /** Sends waiting requests while the in-flight window has room. */
  private drain(): void {
    while (this.state === 'open' && this.waiting.length > 0 && this.pending.size < CHANNEL_MAX_INFLIGHT) {
      const w = this.waiting.shift() as Waiting;
      let id = this.nextId;
      while (this.pending.has(id)) id = (id + 1) >>> 0;
      this.nextId = (id + 1) >>> 0;
      const enc = encodeFrame({ kind: 'request', id, headers: w.headers, body: w.body }, this.maxFrame);
      if (!enc.ok) {
        w.reject(new TransportError('CONNECT_FAILED', `Frame cannot be encoded: ${enc.reason}`));
        continue;
      }
      this.pending.set(id, w);
      this.link.send(enc.bytes);
    }
  }

  /** Closes the channel with `code`; pending requests reject at once. */
  close(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.link.close(code, reason);
    this.closed(code, reason);
  }

  /** Drops the channel without a closing handshake (its path is gone: nothing would get through). */
  drop(reason: string): void {
    if (this.state === 'closed') return;
    this.link.terminate();
    this.closed(CLOSE.GOING_AWAY, reason);
  }

  /**
   * Pings now; unless something is heard from the peer within `ms`, calls `dead` (default: drop the
   * channel), else `alive`.
   */
  probe(ms: number, dead: () => void = () => this.drop('no answer to a probe'), alive: () => void = () => {}): void {
    if (this.state !== 'open') return dead();
    const asked = Date.now();
    this.link.ping();
    const t = setTimeout(() => {
      if (this.state === 'open' && this.lastHeard < asked) dead();
      else if (this.state === 'open') alive();
      else dead();
    }, ms);
    t.unref?.();
  }

  /** The hub admits this authenticated channel after deciding later (`onAuthenticated` said 'later'). */
  admitLater(): void {
    if (this.state !== 'hello' || this.peer === null) return;
    this.admit();
    this.hooks.onOpened(this);
  }

  /** The hub admitted this authenticated channel: the listener answers its HELLO; pings start. */
  private admit(): void {
    if (this.state !== 'hello') return;
    if (!this.dialled) this.link.send(buildHello(this.hooks.identity, 1, this.link.exporter));
    this.state = 'open';
    this.openedAt = Date.now();
    clearTimeout(this.helloTimer);
    this.lastHeard = Date.now();
    const ms = this.hooks.pingMs;
    this.pingTimer = setInterval(() => {
      // Nothing heard for two intervals: the peer or the path is gone. No close frame can get through.
      if (Date.now() - this.lastHeard > 2 * ms) {
        this.link.terminate();
        this.closed(CLOSE.TIMEOUT, 'ping timeout');
      } else this.link.ping();
    }, ms);
    this.pingTimer.unref?.();
  }

  private get maxFrame(): number {
    return this.hooks.maxFrameBytes ?? MAX_FRAME_BYTES;
  }

  private onMessage(bytes: Uint8Array): void {
    if (this.state === 'closed') return;
    this.lastHeard = Date.now();
    const d = decodeFrame(bytes, this.maxFrame);
    if (!d.ok) {
      // Same code as `ws` gives an oversized message, so both bindings close alike.
      const code = d.code === 'TOO_LARGE' ? CLOSE.TOO_BIG : CLOSE.BAD_FRAME;
      return this.close(code, `${d.code}: ${d.reason}`.slice(0, 120));
    }
    const f: Frame = d.frame;
    if (this.state === 'hello') {
      // Only a HELLO of the other role may come first; the listener's HELLO is our admission.
      if (f.kind !== 'hello') return this.close(CLOSE.BAD_FRAME, 'expected HELLO');
      const peer = checkHello(f, this.dialled ? 1 : 0, this.link.exporter);
      if (!peer) return this.close(CLOSE.AUTH_FAILED, 'HELLO does not verify for this session');
      if (this.expectSignPub && !Buffer.from(peer.signPub).equals(Buffer.from(this.expectSignPub))) {
        return this.close(CLOSE.AUTH_FAILED, 'HELLO key is not the pinned key');
      }
      if (Buffer.from(peer.signPub).equals(Buffer.from(this.hooks.identity.signPub))) {
        return this.close(CLOSE.AUTH_FAILED, 'HELLO carries our own key');
      }
      this.peer = peer;
      if (this.hooks.onAuthenticated(this) === true) {
        this.admit();
        this.hooks.onOpened(this);
      }
      return;
    }
    if (f.kind === 'hello') return this.close(CLOSE.BAD_FRAME, 'second HELLO');
    if (f.kind === 'response') {
      const p = this.pending.get(f.id);
      if (!p) return; // answered after our timeout: nobody waits for it any more
      this.pending.delete(f.id);
      p.resolve({ status: f.status, body: f.body, channel: this.peer });
      this.drain();
      return;
    }
    if (this.inbound + this.held.length >= CHANNEL_MAX_INFLIGHT) {
      // More unanswered requests than the window allows: a peer that ignores the rule.
      this.answer(f.id, { status: 429, body: busyBody });
      return;
    }
    this.held.push(f);
    this.pump();
  }

  /**
   * Serves held requests in order. A trusted peer (a contact) spends its budget; when it is spent,
   * the channel stops reading (the sender's window fills and it waits) and resumes as soon as the
   * budget allows: backpressure, never 429. Others go through the edge's per-IP limit.
   */
  private pump(): void {
    if (this.holdTimer) return;
    while (this.state === 'open' && this.held.length > 0) {
      const f = this.held[0];
      const trusted = this.hooks.isTrusted(this);
      if (trusted) {
        this.budget ??= new Budget();
        let size = f.body.byteLength;
        for (const k in f.headers) size += k.length + f.headers[k].length;
        const wait = this.budget.take(size);
        if (wait > 0) {
          this.link.pause?.();
          this.holdTimer = setTimeout(() => {
            this.holdTimer = undefined;
            this.pump();
          }, wait);
          return;
        }
      }
      this.held.shift();
      void this.serve(f, trusted);
    }
    this.link.resume?.();
  }

  private async serve(f: RequestFrame, trusted: boolean): Promise<void> {
    let res: InboundResponse;
    this.inbound++;
    try {
      res = await this.hooks.onRequest(this, f, trusted);
    } catch {
      res = { status: 500, body: internalBody };
    } finally {
      this.inbound--;
    }
    this.answer(f.id, res);
  }

  private answer(id: number, res: InboundResponse): void {
    if (this.state !== 'open') return;
    let enc = encodeFrame({ kind: 'response', id, status: res.status, body: res.body }, this.maxFrame);
    if (!enc.ok) enc = encodeFrame({ kind: 'response', id, status: 500, body: internalBody });
    if (enc.ok) this.link.send(enc.bytes);
  }

  private closed(code: number, reason: string): void {
    if (this.state === 'closed') return;
    this.state = 'closed';
    clearTimeout(this.helloTimer);
    clearInterval(this.pingTimer);
    clearTimeout(this.holdTimer);
    clearTimeout(this.deadlineTimer);
    this.deadlineAt = Number.POSITIVE_INFINITY;
    this.held.length = 0;
    for (const w of this.waiting.splice(0)) {
      // Never sent: the caller may safely resend it (by POST until the channel is back).
      w.reject(new ChannelLost(`Channel to ${this.remote} closed (${code} ${reason})`));
    }
    for (const [id, p] of this.pending) {
      this.pending.delete(id);
      // The request may or may not have been processed; like a reset POST connection, the caller decides.
      p.reject(new ChannelLost(`Channel to ${this.remote} closed (${code} ${reason})`));
    }
    this.hooks.onClosed(this, code, reason);
  }
}

const busyBody = errorReply('RATE_LIMITED', 'Too many unanswered requests on this channel; retry in 1 s.').body;
const internalBody = internalReply().body;
