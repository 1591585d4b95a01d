/**
 * The HTTPS transport's channel binding: a WebSocket upgrade on `/mesh` over the same pinned TLS 1.3
 * connection and port as `POST /mesh` (docs/PROTOCOL.md §13.1). The dialer connects TLS itself, checks
 * the pin before a single HTTP byte is sent, then hands the socket to `ws`; both ends read the TLS
 * exporter value that the HELLOs sign. Everything after the upgrade is the shared engine (channel/).
 */
import { type IncomingMessage, type Server, STATUS_CODES } from 'node:http';
import { isIP, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import type WebSocket from 'ws';
import type { WebSocketServer } from 'ws';
import { TransportError } from '../../ports.ts';
import { MESH_PATH } from '../../protocol/constants.ts';
import { formatAddress } from '../../util/address.ts';
import { CLOSE } from '../channel/constants.ts';
import type { ChannelLink } from '../channel/link.ts';
import { EXPORTER_BYTES, EXPORTER_LABEL, MAX_FRAME_BYTES } from '../channel-frames.ts';
import { type EdgeReply, formatRemote } from '../edge.ts';
import { peerEd25519 } from './certificate.ts';

/** `WebSocket.OPEN`: the readyState of an open connection (RFC 6455 API; `ws` uses the same value). */
const OPEN = 1;

let wsModule: Promise<typeof import('ws')> | undefined;
/**
 * `ws` is loaded with the first channel (dialled or accepted), not at start-up: a daemon that has no
 * channel yet does not pay its memory and load time (issue 8's start-up budget).
 */
function loadWs(): Promise<typeof import('ws')> {
  wsModule ??= import('ws');
  return wsModule;
}

/** The TLS 1.3 exporter value of this connection for the channel HELLO (RFC 8446 §7.5; RFC 5705 label). */
export function channelExporter(socket: TLSSocket): Uint8Array {
  return new Uint8Array(socket.exportKeyingMaterial(EXPORTER_BYTES, EXPORTER_LABEL, Buffer.alloc(0)));
}

/**
 * Wraps an open `ws` WebSocket as a channel link. `socket` is the connection under it: the frames
 * sent in one turn of the event loop (a group commit's answers, a burst of requests) are corked and
 * leave as one TLS record and one write when the turn's synchronous work ends (`nextTick`, not a
 * timer), instead of one record and one system call per frame.
 */
export function wsLink(ws: WebSocket, exporter: Uint8Array, remote: string, socket?: Duplex): ChannelLink {
  let corked = false;
  const uncork = () => {
    corked = false;
    socket?.uncork();
  };
  const link: ChannelLink = {
    exporter,
    remote,
    send(bytes) {
      if (ws.readyState !== OPEN) return;
      if (socket && !corked) {
        corked = true;
        socket.cork();
        process.nextTick(uncork);
      }
      ws.send(bytes, { binary: true });
    },
    close(code, reason) {
      try {
        ws.close(code, reason);
      } catch {
        ws.terminate();
      }
    },
    terminate: () => ws.terminate(),
    ping() {
      if (ws.readyState === OPEN) ws.ping();
    },
    pause() {
      if (ws.readyState === OPEN && !ws.isPaused) ws.pause();
    },
    resume() {
      if (ws.readyState === OPEN && ws.isPaused) ws.resume();
    },
    onMessage: () => {},
    onClose: () => {},
    onPong: () => {},
  };
  ws.on('message', (data, isBinary) => {
    // Frames are binary; a text message is a peer that does not speak this protocol.
    if (!isBinary) return link.close(CLOSE.BAD_FRAME, 'text message');
    // binaryType is the default 'nodebuffer', so a binary message is one Buffer (never fragments).
    link.onMessage(data as Buffer);
  });
  ws.on('pong', () => link.onPong());
  ws.on('close', (code, reason) => link.onClose(code, reason.toString('utf8')));
  // Every error is followed by 'close'; without a listener it would be thrown.
  ws.on('error', () => {});
  return link;
}

/** How {@link dialWs} connects. */
export interface WsDialOptions {
  host: string;
  port: number;
  /** The identity key the server certificate must hold (the pin). */
  signPub: Uint8Array;
  localAddress?: string;
  /** Local port to dial from (the punch port, docs/PROTOCOL.md §17.1). @default an ephemeral port */
  localPort?: number;
  family?: number;
  /** Time for TLS plus the upgrade, ms. */
  timeoutMs: number;
  maxFrameBytes?: number;
}

/** Dials a channel: TLS 1.3 with the key pin checked first, then the WebSocket upgrade on /mesh. */
export async function dialWs(o: WsDialOptions): Promise<ChannelLink> {
  const socket = tlsConnect({
    host: o.host,
    port: o.port,
    ...(isIP(o.host) ? {} : { servername: o.host }),
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o.localPort ? { localPort: o.localPort } : {}),
    ...(o.family ? { family: o.family } : {}),
    ...TLS_CLIENT,
  });
  return pinnedUpgrade(socket, formatAddress({ host: o.host, port: o.port }), o);
}

/** How {@link dialWsOver} runs the TLS client on a socket that is already connected. */
export interface WsOverOptions {
  /** The identity key the server certificate must hold (the pin). */
  signPub: Uint8Array;
  /** Time for TLS plus the upgrade, ms. */
  timeoutMs: number;
  maxFrameBytes?: number;
}

/**
 * Runs the dialer's half of a channel on a TCP socket that is already connected (a hole-punched
 * socket, docs/PROTOCOL.md §17): the same pinned TLS 1.3 client and upgrade as {@link dialWs}.
 */
export function dialWsOver(raw: Socket, o: WsOverOptions): Promise<ChannelLink> {
  const address = formatRemote(raw.remoteAddress ?? '0.0.0.0', raw.remotePort ?? 0);
  return pinnedUpgrade(tlsConnect({ socket: raw, ...TLS_CLIENT }), address, o);
}

/** TLS client options of every channel dial: key pin (checked after the handshake), TLS 1.3, HTTP/1.1. */
const TLS_CLIENT = {
  // Key pin, as the POST connector: chain and name are irrelevant, the key must be the contact's.
  rejectUnauthorized: false,
  minVersion: 'TLSv1.3',
  ALPNProtocols: ['http/1.1'],
} as const;

/** Waits for the TLS handshake, checks the pin before a single HTTP byte is sent, then upgrades to a WebSocket. */
async function pinnedUpgrade(socket: TLSSocket, address: string, o: WsOverOptions): Promise<ChannelLink> {
  const timer = setTimeout(() => socket.destroy(new Error('timeout')), o.timeoutMs);
  try {
    await new Promise<void>((resolve, reject) => {
      socket.once('secureConnect', resolve);
      socket.once('error', reject);
    });
  } catch (err) {
    clearTimeout(timer);
    socket.destroy();
    throw new TransportError('CONNECT_FAILED', `Cannot reach ${address}: ${(err as Error).message}`, { cause: err });
  }
  const got = peerEd25519(socket);
  if (!got || !Buffer.from(o.signPub).equals(got)) {
    clearTimeout(timer);
    socket.destroy();
    throw new TransportError('TLS_PIN', `Server at ${address} does not hold the pinned identity key`);
  }
  const exporter = channelExporter(socket);
  const { WebSocket } = await loadWs();
  const ws = new WebSocket(`wss://${address}${MESH_PATH}`, {
    createConnection: () => socket,
    perMessageDeflate: false,
    maxPayload: o.maxFrameBytes ?? MAX_FRAME_BYTES,
    handshakeTimeout: o.timeoutMs,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      ws.once('open', resolve);
      ws.once('error', reject);
    });
  } catch (err) {
    ws.terminate();
    throw new TransportError('CONNECT_FAILED', `Channel upgrade to ${address} failed: ${(err as Error).message}`, {
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
  return wsLink(ws, exporter, address, socket);
}

/** What {@link handleUpgrades} needs from the transport. */
export interface UpgradeInit {
  /** Takes an accepted channel; null = no channel binding (every upgrade gets 404, like a v1 node). */
  accept: ((link: ChannelLink) => void) | null;
  /** The edge's admission for this request (per-IP rate limit…): a reply refuses it, null lets it on. */
  admit: (remote: string, headers: Record<string, string>) => EdgeReply | null;
  /** The 404 a node answers off its routes. */
  notFound: () => EdgeReply;
  remoteOf: (req: IncomingMessage) => string;
  maxFrameBytes?: number;
}

/**
 * Takes WebSocket upgrades on the server: `GET /mesh` with `Upgrade: websocket` becomes a channel
 * handed to `accept`, after the same edge admission as a POST; any other upgrade, or every upgrade
 * on a node without the channel binding, gets the JSON 404 of a v1 POST-only node. Upgrades never
 * reach fastify's router (a plain `GET /mesh` keeps its 404 there).
 */
export function handleUpgrades(server: Server, o: UpgradeInit): void {
  let wss: WebSocketServer | null = null;
  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    socket.on('error', () => socket.destroy());
    const path = (req.url ?? '').split('?')[0];
    const isWs = req.method === 'GET' && (req.headers.upgrade ?? '').toLowerCase() === 'websocket';
    if (path !== MESH_PATH || !isWs || !o.accept) return refuse(socket, o.notFound());
    const remote = o.remoteOf(req);
    const limited = o.admit(remote, req.headers as Record<string, string>);
    if (limited) return refuse(socket, limited);
    const accept = o.accept;
    loadWs().then(
      (m) => {
        wss ??= new m.WebSocketServer({
          noServer: true,
          maxPayload: o.maxFrameBytes ?? MAX_FRAME_BYTES,
          perMessageDeflate: false,
        });
        wss.handleUpgrade(req, socket, head, (ws) => {
          accept(wsLink(ws, channelExporter(req.socket as TLSSocket), remote, socket));
        });
      },
      () => socket.destroy(),
    );
  });
}

/** Answers an upgrade request with an edge reply and closes the connection. */
function refuse(socket: Duplex, r: EdgeReply): void {
  const head = [`HTTP/1.1 ${r.status} ${STATUS_CODES[r.status] ?? 'Error'}`, `content-length: ${r.body.byteLength}`];
  for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
  head.push('connection: close');
  socket.end(Buffer.concat([Buffer.from(`${head.join('\r\n')}\r\n\r\n`), r.body]));
}
