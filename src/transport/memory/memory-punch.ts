/**
 * Hole punching on the memory network (docs/PROTOCOL.md §17), the model the runtime's punch path is
 * tested on: a punch succeeds when the other end punches us back in time, each aiming at the
 * endpoint the other's router really uses, with complementary TLS roles. A `preserve` router shows a
 * node's punch port unchanged to everyone; a `random` one (symmetric NAT) picks a new port per
 * destination, so the endpoint a contact observed is never where the peer's SYNs arrive.
 */
import type { ChannelEvent, ChannelPeer, PunchRequest } from '../../ports.ts';
import { TransportError } from '../../ports.ts';
import { PUNCH_TIMEOUT_MS } from '../../protocol/constants.ts';
import type { ChannelHub } from '../channel/hub.ts';
import type { MemoryLinks } from './memory-channel.ts';

/** How a node's router maps its punch port. */
export type MemoryMapping = 'preserve' | 'random';

/** One end of a punch as the board sees it. */
export interface MemoryPunchSide {
  /** The transport (owner of its links). */
  owner: object;
  signPub: Uint8Array;
  hub: ChannelHub;
  /** The host others see this node at (its NAT's public host, or its own). */
  host: string;
  mapping: MemoryMapping;
}

interface Intent {
  side: MemoryPunchSide;
  o: PunchRequest;
  /** Where this end's SYNs come from as the other end sees them. */
  from: string;
  deadline: number;
  settle: (r: { peer: ChannelPeer; remote: string } | TransportError) => void;
}

const same = (a: Uint8Array, b: Uint8Array) => Buffer.from(a).equals(Buffer.from(b));

/** The punches in progress on one memory network. */
export class MemoryPunchBoard {
  #waiting: Intent[] = [];

  constructor(private readonly net: { links: MemoryLinks; delay(): number; ephemeralPort(): number }) {}

  /** Starts one end's punch; resolves when its channel over the punched "connection" is open. */
  async punch(side: MemoryPunchSide, o: PunchRequest): Promise<{ peer: ChannelPeer; remote: string }> {
    const start = Math.max(Date.now(), o.startAt ?? 0);
    const deadline = start + (o.timeoutMs ?? PUNCH_TIMEOUT_MS);
    if (start > Date.now()) await new Promise((r) => setTimeout(r, start - Date.now()));
    const port = side.mapping === 'preserve' ? o.localPort : this.net.ephemeralPort();
    const from = `${side.host}:${port}`;
    const result = new Promise<{ peer: ChannelPeer; remote: string } | TransportError>((settle) => {
      const mine: Intent = { side, o, from, deadline, settle };
      const i = this.#waiting.findIndex(
        (x) =>
          x.o.remote === from &&
          o.remote === x.from &&
          x.o.role !== o.role &&
          same(x.o.signPub, side.signPub) &&
          same(o.signPub, x.side.signPub),
      );
      if (i >= 0) {
        const [theirs] = this.#waiting.splice(i, 1);
        setTimeout(() => this.#connect(mine, theirs), this.net.delay());
        return;
      }
      this.#waiting.push(mine);
      setTimeout(() => {
        const j = this.#waiting.indexOf(mine);
        if (j < 0) return;
        this.#waiting.splice(j, 1);
        settle(new TransportError('TIMEOUT', `No simultaneous open with ${o.remote}`));
      }, deadline - Date.now());
    });
    const r = await result;
    if (r instanceof TransportError) throw r;
    return r;
  }

  /** Both ends punched each other: one link, the TLS client's end adopted as dialled, the server's accepted. */
  #connect(a: Intent, b: Intent): void {
    const [client, server] = a.o.role === 'client' ? [a, b] : [b, a];
    this.#watch(client, server, true);
    this.#watch(server, client, false);
    const [c, s] = this.net.links.pair(client.side.owner, server.side.owner, server.from, client.from);
    server.side.hub.accept(s);
    client.side.hub.adopt(c, server.side.signPub);
  }

  /** Settles `me` when its hub opens the channel to `other` over this very link, or at the deadline. */
  #watch(me: Intent, other: Intent, dialled: boolean): void {
    const off = me.side.hub.on((e: ChannelEvent) => {
      if (e.type !== 'channel:open' || e.remote !== other.from || e.dialled !== dialled) return;
      if (!same(e.peer.signPub, other.side.signPub)) return;
      off();
      clearTimeout(timer);
      me.settle({ peer: e.peer, remote: other.from });
    });
    const timer = setTimeout(
      () => {
        off();
        me.settle(new TransportError('TIMEOUT', `No channel over the punched connection to ${other.from}`));
      },
      Math.max(0, me.deadline - Date.now()),
    );
  }
}
