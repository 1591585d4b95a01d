/**
 * Direct upgrade by TCP hole punching (docs/PROTOCOL.md §17), the transport's half: a TCP simultaneous
 * open from the punch port to the other side's observed endpoint, then the same pinned TLS 1.3 and
 * channel as a dialled connection. The `client` end runs the TLS client and the channel dialer on the
 * socket; the `server` end hands the socket to its own HTTPS server (`server.emit('connection')`), which
 * takes the WebSocket upgrade and the HELLO exactly as for an inbound connection on 7575.
 *
 * Why a dedicated punch port: Linux refuses to bind a connecting socket to a port that has a listening
 * socket (EADDRINUSE even with SO_REUSEADDR, which Node sets whenever `localPort` is given), so the
 * listening port 7575 cannot punch. Several outgoing sockets may share the punch port (different
 * remotes); none may listen on it.
 */
import type { Server } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { ChannelEvent, ChannelPeer } from '../../ports.ts';
import { TransportError } from '../../ports.ts';
import { PUNCH_RETRY_MS, PUNCH_TIMEOUT_MS } from '../../protocol/constants.ts';
import { parseAddress } from '../../util/address.ts';
import type { ChannelHub } from '../channel/hub.ts';
import type { ChannelLink } from '../channel/link.ts';
import { formatRemote } from '../edge.ts';
import { dialWs, dialWsOver, type WsDialOptions } from './channel-ws.ts';

/** Which end runs the TLS client (and dials the channel) on the punched socket. */
export type PunchRole = 'client' | 'server';

/** What a punch needs (docs/PROTOCOL.md §17.3). */
export interface PunchOptions {
  /** Local port to connect from: the punch port, whose NAT mapping the other side learned. Never the listening port. */
  localPort: number;
  /** The other side's endpoint "ip:port" as a contact observed it (its punch port after its NAT). */
  remote: string;
  /** `client`: TLS client and channel dialer; `server`: the socket goes to our HTTPS server. */
  role: PunchRole;
  /** The other side's identity key: the TLS pin (client) and the key its HELLO must carry. */
  signPub: Uint8Array;
  /** Local address to bind. @default the transport's local address, else any */
  localAddress?: string;
  /** Send the first SYN no earlier than this time (epoch ms), so both sides' SYNs leave together. @default now */
  startAt?: number;
  /** Budget of the whole attempt (SYNs, TLS, HELLO), ms from the start. @default PUNCH_TIMEOUT_MS */
  timeoutMs?: number;
  /** Pause before a new SYN after a refusal, ms. @default PUNCH_RETRY_MS */
  retryMs?: number;
}

/** A punch that worked: the channel is open and carries requests to that key from now on. */
export interface PunchResult {
  peer: ChannelPeer;
  /** The remote endpoint of the punched connection. */
  remote: string;
  /** SYNs sent (connect attempts) before the connection came up. */
  attempts: number;
  /** Time from the start to the open channel, ms. */
  ms: number;
}

/** What {@link punchChannel} uses of the HTTPS transport. */
export interface PunchComponents {
  hub: ChannelHub;
  server: Server;
  localAddress?: string;
  /** Channel handshake timeout, ms (the TLS client's budget after the socket is up). */
  handshakeMs: number;
}

/** The transport's parts a punch uses; throws when there is no channel binding or no server listening. */
export function punchComponents(
  hub: ChannelHub | null,
  server: Server | null,
  localAddress: string | undefined,
  handshakeMs: number,
): PunchComponents {
  if (!hub) throw new TypeError("HttpsTransport: punching needs the identity's boxPub (channels)");
  if (!server) throw new TransportError('ABORTED', 'Transport is not listening');
  return { hub, server, localAddress, handshakeMs };
}

/** Connects from `localPort` to `host:port`, again after each refusal, until connected or `deadline`. */
export function simultaneousOpen(o: {
  host: string;
  port: number;
  localPort: number;
  localAddress?: string;
  deadline: number;
  retryMs: number;
}): Promise<{ socket: Socket; attempts: number }> {
  return new Promise((resolve, reject) => {
    let attempts = 0;
    let current: Socket | null = null;
    let retry: NodeJS.Timeout | undefined;
    let lastError = 'no answer';
    const giveUp = setTimeout(
      () => {
        clearTimeout(retry);
        current?.destroy();
        reject(
          new TransportError(
            'TIMEOUT',
            `No simultaneous open with ${o.host}:${o.port} after ${attempts} SYN(s): ${lastError}`,
          ),
        );
      },
      Math.max(0, o.deadline - Date.now()),
    );
    const attempt = () => {
      attempts++;
      const s = netConnect({
        host: o.host,
        port: o.port,
        localPort: o.localPort,
        ...(o.localAddress ? { localAddress: o.localAddress } : {}),
      });
      current = s;
      s.once('connect', () => {
        clearTimeout(giveUp);
        s.removeAllListeners('error');
        s.on('error', () => {}); // the TLS layer on top reports errors from here on
        resolve({ socket: s, attempts });
      });
      s.once('error', (err: NodeJS.ErrnoException) => {
        lastError = err.code ?? err.message;
        s.destroy();
        if (current !== s) return;
        current = null;
        // EADDRINUSE: the punch port is taken by a listener (a caller mistake) — retrying cannot help.
        if (err.code === 'EADDRINUSE' || Date.now() + o.retryMs >= o.deadline) return; // giveUp reports it
        retry = setTimeout(attempt, o.retryMs);
      });
    };
    attempt();
  });
}

/**
 * One punch: waits for `startAt`, opens the connection simultaneously with the other side, runs TLS
 * and the HELLOs in `role`, and resolves once the channel to `signPub` over this very connection is
 * open (the hub's one-per-pair rule applies unchanged). Rejects with a TransportError otherwise.
 */
export async function punchChannel(c: PunchComponents, o: PunchOptions): Promise<PunchResult> {
  const target = parseAddress(o.remote);
  const start = Math.max(Date.now(), o.startAt ?? 0);
  const deadline = start + (o.timeoutMs ?? PUNCH_TIMEOUT_MS);
  if (start > Date.now()) await new Promise((r) => setTimeout(r, start - Date.now()));
  const { socket, attempts } = await simultaneousOpen({
    host: target.host,
    port: target.port,
    localPort: o.localPort,
    localAddress: o.localAddress ?? c.localAddress,
    deadline,
    retryMs: o.retryMs ?? PUNCH_RETRY_MS,
  });
  const peer = await channelOverSocket(c, socket, o.role, o.signPub, deadline);
  return {
    peer,
    remote: formatRemote(socket.remoteAddress ?? '', socket.remotePort ?? 0),
    attempts,
    ms: Date.now() - start,
  };
}

/**
 * Runs the channel on a connected TCP socket in `role` and resolves with the peer once the channel to
 * `signPub` over this very socket is open; destroys the socket and rejects otherwise (wrong pin,
 * HELLO refused, lost the one-per-pair rule, `deadline` passed).
 */
export async function channelOverSocket(
  c: PunchComponents,
  socket: Socket,
  role: PunchRole,
  signPub: Uint8Array,
  deadline: number,
): Promise<ChannelPeer> {
  const remote = formatRemote(socket.remoteAddress ?? '', socket.remotePort ?? 0);
  const key = Buffer.from(signPub);
  let stop: () => void = () => {};
  const opened = new Promise<ChannelPeer>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new TransportError('TIMEOUT', `No channel over the punched connection to ${remote} in time`)),
      Math.max(0, deadline - Date.now()),
    );
    const off = c.hub.on((e: ChannelEvent) => {
      // This connection's channel, not another one to the same peer: same remote endpoint and direction.
      if (e.type !== 'channel:open' || e.remote !== remote || e.dialled !== (role === 'client')) return;
      if (!key.equals(e.peer.signPub)) return;
      stop();
      resolve(e.peer);
    });
    stop = () => {
      clearTimeout(timer);
      off();
    };
    socket.once('close', () => {
      // Closed before the channel opened (pin refused, HELLO refused, lost the pair rule, reset).
      setImmediate(() => reject(new TransportError('CONNECT_FAILED', `Punched connection to ${remote} closed`)));
    });
  });
  try {
    if (role === 'server') {
      c.server.emit('connection', socket);
    } else {
      const link = await dialWsOver(socket, {
        signPub,
        timeoutMs: Math.max(1, Math.min(c.handshakeMs, deadline - Date.now())),
      });
      c.hub.adopt(link, signPub);
    }
    return await opened;
  } catch (err) {
    stop();
    socket.destroy();
    opened.catch(() => {});
    throw err;
  }
}

/**
 * Dials a channel from the punch port so the contact observes its NAT mapping (§17.1); from an
 * ephemeral port when the punch port cannot be used for this remote (the same connection still in
 * TIME_WAIT, or another process listens on it).
 */
export async function dialFromPort(o: WsDialOptions, localPort: number | undefined): Promise<ChannelLink> {
  if (!localPort) return dialWs(o);
  try {
    return await dialWs({ ...o, localPort });
  } catch (err) {
    const code = (err as { cause?: NodeJS.ErrnoException }).cause?.code;
    if (code !== 'EADDRINUSE' && code !== 'EADDRNOTAVAIL') throw err;
    return dialWs(o);
  }
}
