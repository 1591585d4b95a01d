/**
 * Channel links on the memory network: an ordered message pipe between two endpoints with the
 * network's latency, a random per-connection exporter (the TLS exporter's stand-in: shared by the two
 * ends of one connection only) and keep-alive pings. A node that goes offline or moves breaks its
 * links (both ends see 1006 after one delay), as a reset TCP connection would.
 */

import { CLOSE } from '../channel/constants.ts';
import type { ChannelLink } from '../channel/link.ts';
import { MAX_FRAME_BYTES } from '../channel-frames.ts';

const MESSAGE_TOO_BIG = CLOSE.TOO_BIG;

/** The network services a link needs (implemented by MemoryNetwork). */
export interface LinkNetwork {
  /** One-way delay, ms. */
  delay(): number;
  /** Random number in [0, 1). */
  random(): number;
}

/** Close code both ends see when the connection itself breaks (RFC 6455 §7.1.5: closed abnormally). */
export const ABNORMAL_CLOSURE = 1006;

/** One end of a memory connection. */
class MemoryLink implements ChannelLink {
  onMessage: (bytes: Uint8Array) => void = () => {};
  onClose: (code: number, reason: string) => void = () => {};
  onPong: () => void = () => {};
  other!: MemoryLink;
  up = true;
  /** Delivery time of the last message sent this way: a link is ordered, however the jitter falls. */
  private lastAt = 0;

  constructor(
    private readonly net: LinkNetwork,
    private readonly links: MemoryLinks,
    readonly exporter: Uint8Array,
    readonly remote: string,
    /** Address of the node that owns this end (to break its links). */
    public owner: object,
  ) {}

  send(bytes: Uint8Array): void {
    if (!this.up) return;
    const copy = new Uint8Array(bytes);
    const other = this.other;
    this.later(() => {
      if (!other.up) return;
      // As `ws` with maxPayload: the receiver refuses an oversized message by closing with 1009.
      if (copy.byteLength > MAX_FRAME_BYTES) other.close(MESSAGE_TOO_BIG, 'message too big');
      else other.onMessage(copy);
    });
  }

  close(code: number, reason: string): void {
    if (!this.up) return;
    this.down(code, reason);
    const other = this.other;
    this.later(() => other.down(code, reason));
  }

  terminate(): void {
    // Silent: the other end learns only by its own ping timeout, as with a vanished TCP peer.
    this.down(ABNORMAL_CLOSURE, 'terminated');
  }

  ping(): void {
    if (!this.up) return;
    this.later(() => {
      if (this.other.up) this.other.later(() => this.up && this.onPong());
    });
  }

  /** Runs `f` after the one-way delay, never before an earlier message this way. */
  later(f: () => void): void {
    const at = Math.max(Date.now() + this.net.delay(), this.lastAt);
    this.lastAt = at;
    setTimeout(f, at - Date.now());
  }

  down(code: number, reason: string): void {
    if (!this.up) return;
    this.up = false;
    this.links.forget(this);
    this.onClose(code, reason);
  }
}

/** All open memory links of one network. */
export class MemoryLinks {
  private readonly all = new Set<MemoryLink>();

  constructor(private readonly net: LinkNetwork) {}

  /**
   * A connection between `dialer` and `listener` (owners are the transports): returns the dialer's
   * end (remote = the listener's address) and the listener's end (remote = the dialer's ip:port).
   */
  pair(dialer: object, listener: object, listenerAddress: string, dialerRemote: string): [ChannelLink, ChannelLink] {
    const exporter = new Uint8Array(32).map(() => Math.floor(this.net.random() * 256));
    const a = new MemoryLink(this.net, this, exporter, listenerAddress, dialer);
    const b = new MemoryLink(this.net, this, exporter, dialerRemote, listener);
    a.other = b;
    b.other = a;
    this.all.add(a);
    this.all.add(b);
    return [a, b];
  }

  /** Breaks every link of `owner` (offline, moved or closed): both ends see 1006 after one delay. */
  breakAll(owner: object, reason: string): void {
    for (const l of [...this.all]) {
      if (l.owner !== owner) continue;
      const other = l.other;
      l.later(() => l.down(ABNORMAL_CLOSURE, reason));
      l.later(() => other.down(ABNORMAL_CLOSURE, reason));
    }
  }

  /** Number of open link ends (tests). */
  get size(): number {
    return this.all.size;
  }

  /** @internal */
  forget(l: MemoryLink): void {
    this.all.delete(l);
  }
}
