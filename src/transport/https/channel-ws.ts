/**
 * The HTTPS transport's channel binding: a WebSocket upgrade on `/mesh` over the same pinned TLS 1.3
 * connection and port as `POST /mesh` (docs/PROTOCOL.md §13.1). The dialer connects TLS itself, checks
 * the pin before a single HTTP byte is sent, then hands the socket to `ws`; both ends read the TLS
 * exporter value that the HELLOs sign. Everything after the upgrade is the shared engine (channel/).
 */
import { isIP } from 'node:net';
import { type TLSSocket, connect as tlsConnect } from 'node:tls';
import websocketPlugin from '@fastify/websocket';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import WebSocket from 'ws';
import { TransportError } from '../../ports.ts';
import { MESH_PATH } from '../../protocol/constants.ts';
import { formatAddress } from '../../util/address.ts';
import { CLOSE } from '../channel/constants.ts';
import type { ChannelLink } from '../channel/link.ts';
import { EXPORTER_BYTES, EXPORTER_LABEL, MAX_FRAME_BYTES } from '../channel-frames.ts';
import { peerEd25519 } from './certificate.ts';

/** The TLS 1.3 exporter value of this connection for the channel HELLO (RFC 8446 §7.5; RFC 5705 label). */
export function channelExporter(socket: TLSSocket): Uint8Array {
  return new Uint8Array(socket.exportKeyingMaterial(EXPORTER_BYTES, EXPORTER_LABEL, Buffer.alloc(0)));
}

/** Wraps an open `ws` WebSocket as a channel link. */
export function wsLink(ws: WebSocket, exporter: Uint8Array, remote: string): ChannelLink {
  const link: ChannelLink = {
    exporter,
    remote,
    send(bytes) {
      if (ws.readyState === WebSocket.OPEN) ws.send(bytes, { binary: true });
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
      if (ws.readyState === WebSocket.OPEN) ws.ping();
    },
    pause() {
      if (ws.readyState === WebSocket.OPEN && !ws.isPaused) ws.pause();
    },
    resume() {
      if (ws.readyState === WebSocket.OPEN && ws.isPaused) ws.resume();
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
  family?: number;
  /** Time for TLS plus the upgrade, ms. */
  timeoutMs: number;
  maxFrameBytes?: number;
}

/** Dials a channel: TLS 1.3 with the key pin checked first, then the WebSocket upgrade on /mesh. */
export async function dialWs(o: WsDialOptions): Promise<ChannelLink> {
  const address = formatAddress({ host: o.host, port: o.port });
  const socket = tlsConnect({
    host: o.host,
    port: o.port,
    ...(isIP(o.host) ? {} : { servername: o.host }),
    ...(o.localAddress ? { localAddress: o.localAddress } : {}),
    ...(o.family ? { family: o.family } : {}),
    // Key pin, as the POST connector: chain and name are irrelevant, the key must be the contact's.
    rejectUnauthorized: false,
    minVersion: 'TLSv1.3',
    ALPNProtocols: ['http/1.1'],
  });
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
  return wsLink(ws, exporter, address);
}

/**
 * Adds the upgrade route to the server: `GET /mesh` with `Upgrade: websocket` becomes a channel
 * handed to `accept`; a plain GET keeps its 404 (`notFound`), and a node without the channel binding
 * (`accept` null) answers every upgrade 404 like a v1 POST-only node. The per-IP rate limit hook
 * registered before runs for the upgrade request too.
 */
export async function addChannelRoute(
  app: FastifyInstance,
  accept: ((link: ChannelLink) => void) | null,
  notFound: (reply: FastifyReply) => FastifyReply,
  remoteOf: (req: FastifyRequest) => string,
  maxFrameBytes = MAX_FRAME_BYTES,
): Promise<void> {
  await app.register(websocketPlugin, {
    options: { maxPayload: maxFrameBytes, perMessageDeflate: false },
    // The hub closes channels (1001) before the server closes; nothing left to do here.
    preClose: (done: () => void) => done(),
  });
  if (!accept) {
    app.addHook('onRequest', async (req, reply) => {
      if (req.ws) return notFound(reply);
    });
  }
  app.route({
    method: 'GET',
    url: MESH_PATH,
    // HEAD /mesh keeps the not-found handler's JSON 404, as before the binding existed.
    exposeHeadRoute: false,
    handler: (_req, reply) => notFound(reply),
    wsHandler: (socket, req) => {
      const tls = req.raw.socket as TLSSocket;
      if (!accept) return socket.close(CLOSE.NORMAL, 'no channel binding');
      accept(wsLink(socket, channelExporter(tls), remoteOf(req)));
    },
  });
}
