/**
 * HTTPS transport: fastify@5 server (TLS 1.3, self-signed Ed25519 identity certificate) and an
 * undici@7 client with one keep-alive pool per (address, pin). Clients pin contacts by key.
 */
import { readFileSync } from 'node:fs';
import type { Server } from 'node:https';
import { isIP, type Socket } from 'node:net';
import { rootCertificates, type TLSSocket } from 'node:tls';
import Fastify, { type FastifyInstance } from 'fastify';
import type { buildConnector, Pool } from 'undici';
import type {
  ChannelPeer,
  ChannelTransport,
  InboundResponse,
  Logger,
  OutboundRequest,
  PinSpec,
  RequestHandler,
} from '../../ports.ts';
import { TransportError } from '../../ports.ts';
import { DEFAULT_PORT, MESH_PATH } from '../../protocol/constants.ts';
import { formatAddress, parseAddress } from '../../util/address.ts';
import { ChannelBinding } from '../channel/binding.ts';
import { ChannelHub, type ChannelInit } from '../channel/hub.ts';
import { ConnectionGuard, type ConnectionGuardInit } from '../connection-guard.ts';
import {
  badRequestReply,
  Edge,
  errorReply,
  formatRemote,
  internalReply,
  JSON_CONTENT_TYPE,
  lowerHeaders,
  notFoundReply,
  type RateLimitOptions,
  tooLargeReply,
} from '../edge.ts';
import { lazySchemaCompilers } from '../lazy-schema-compilers.ts';
import { createSelfSignedCert, peerEd25519 } from './certificate.ts';
import { handleUpgrades } from './channel-ws.ts';
import { limitConnections } from './connection-limits.ts';
import * as punching from './punch.ts';
import { remoteOf, sendReply, writeRawReply } from './replies.ts';
import { toTransportError } from './transport-errors.ts';

/** Options of {@link HttpsTransport}. */
export interface HttpsTransportInit {
  /** Address to listen on. @default '0.0.0.0' */
  host?: string;
  /** Port to listen on; 0 = any free port. @default DEFAULT_PORT (7575) */
  port?: number;
  /** Raw 32-byte Ed25519 seed of the node identity (the TLS key). */
  signPriv: Uint8Array;
  /** Raw 32-byte Ed25519 public key of the node identity. */
  signPub: Uint8Array;
  /** Peer with a domain: serve this CA-issued certificate instead of the self-signed identity one. */
  tls?: { certPem: string; keyPem: string };
  /** Extra trusted CAs (PEM) for domain pins, added to the system roots and NODE_EXTRA_CA_CERTS. */
  ca?: string[];
  /** Local address for outgoing connections. @default host when it is a specific address (not 0.0.0.0 / ::) */
  localAddress?: string;
  /** Largest request body accepted, bytes. @default MAX_BODY_BYTES */
  maxBodyBytes?: number;
  /** Largest response body read by the client, bytes. @default 1 MiB */
  maxResponseBytes?: number;
  /** Server: time to receive a whole request, ms. @default 10000 */
  requestTimeoutMs?: number;
  /** Server: time to receive the request headers (and the TLS handshake), ms. @default 5000 */
  headersTimeoutMs?: number;
  /** Server: idle keep-alive connections are closed after this, ms. @default 30000 */
  keepAliveTimeoutMs?: number;
  /** Server: most simultaneous connections. @default 1024 */
  maxConnections?: number;
  /** Client: most connections per peer pool. @default 16 */
  connectionsPerPeer?: number;
  /** Client: most peer pools kept (least recently used are closed). @default 256 */
  maxPeerPools?: number;
  /** Per-remote-IP rate limit; `false` disables it. @default RATE_LIMIT_MAX per RATE_LIMIT_WINDOW_MS */
  rateLimit?: RateLimitOptions | false;
  /**
   * Open connections and new TLS handshakes per IPv4 address / IPv6 /64, refused before TLS; `false`
   * disables them. @default MAX_CONNECTIONS_PER_IP, HANDSHAKES_PER_S_PER_IP, HANDSHAKE_BURST_PER_IP
   */
  connectionLimits?: ConnectionGuardInit | false;
  /** pino-compatible logger. */
  logger?: Logger;
  /** X25519 public key of the identity; enables the channel binding (docs/PROTOCOL.md §13). */
  boxPub?: Uint8Array;
  /** Channel timings and limits. */
  channel?: ChannelInit;
  /** Punch port (PROTOCOL.md §17.1): channels are dialled from it, never the listening port. @default none */
  punchPort?: number;
}

const UNSPECIFIED = new Set(['0.0.0.0', '::', '::0', '']);

type Undici = typeof import('undici');
let undici: Undici | undefined;
/**
 * undici is the largest module a node loads (~10 MB of memory, ~80 ms): load it with the first
 * outgoing request, so a daemon starts without it and one that never sends never pays for it.
 */
async function loadUndici(): Promise<Undici> {
  undici ??= await import('undici');
  return undici;
}

/** HTTPS transport for real nodes; see src/transport/https/index.ts for usage. */
export class HttpsTransport extends ChannelBinding implements ChannelTransport {
  protected readonly edge: Edge;
  protected readonly hub: ChannelHub | null;
  private handler: RequestHandler | null = null;
  private readonly pools = new Map<string, Pool>();
  /** LRU-evicted pools still finishing their requests. */
  private readonly retired = new Set<Pool>();
  private readonly localAddress: string | undefined;
  private readonly logger: Logger | undefined;
  private app: FastifyInstance | null = null;
  /** Every accepted socket still open: upgraded ones (channels, even mid-HELLO) are not the HTTP server's to close. */
  private readonly accepted = new Set<Socket>();
  private closed = false;
  private extraCa: string[] | null = null;
  /** Per-source connection and handshake budgets (issue 12 #7); null when disabled. */
  private readonly guard: ConnectionGuard | null;
  private channelTrust: (peer: ChannelPeer) => boolean = () => false;

  constructor(private readonly init: HttpsTransportInit) {
    super();
    this.edge = new Edge({ maxBodyBytes: init.maxBodyBytes, rateLimit: init.rateLimit, logger: init.logger });
    this.logger = init.logger;
    this.guard = init.connectionLimits === false ? null : new ConnectionGuard(init.connectionLimits);
    const host = init.host ?? '0.0.0.0';
    this.localAddress = init.localAddress ?? (UNSPECIFIED.has(host) || isIP(host) === 0 ? undefined : host);
    this.hub = init.boxPub
      ? new ChannelHub(
          {
            identity: { signPriv: init.signPriv, signPub: init.signPub, boxPub: init.boxPub },
            dial: (address, signPub) => {
              const target = parseAddress(address);
              const local = this.localFor(target.host);
              const o = { ...target, ...local, signPub, timeoutMs: init.headersTimeoutMs ?? 5_000 };
              return punching.dialFromPort(o, init.punchPort); // §17.1: from the punch port when set
            },
            serve: async (req, trusted) => {
              if (!this.handler) return errorReply('UNAVAILABLE', 'The node is not serving.');
              return this.edge.serve(this.handler, req, trusted);
            },
            logger: init.logger,
          },
          init.channel,
        )
      : null;
  }

  /** The underlying node:https server once listening (diagnostics and tests), else null. */
  get server(): Server | null {
    return (this.app?.server as Server | undefined) ?? null;
  }

  /** Connections refused by the per-source budgets, by reason (`LIMIT_CONNECTIONS`, `LIMIT_HANDSHAKES`). */
  drops(): Record<string, number> {
    return { ...this.guard?.drops };
  }

  /** Trusted channel peers also stop counting against their source's connection budget once open. */
  override trustChannels(trusted: (peer: ChannelPeer) => boolean): void {
    this.channelTrust = trusted;
    super.trustChannels(trusted);
  }

  /** Starts the HTTPS server; resolves with the bound "ip:port" (the real port when port was 0). */
  async listen(handler: RequestHandler): Promise<string> {
    if (this.closed) throw new Error('HttpsTransport is closed');
    if (this.app) throw new Error('HttpsTransport is already listening');
    const init = this.init;
    const { certPem, keyPem } = init.tls ?? (await createSelfSignedCert(init.signPriv, init.signPub));
    const requestTimeout = init.requestTimeoutMs ?? 10_000;
    const headersTimeout = Math.min(init.headersTimeoutMs ?? 5_000, requestTimeout);
    const keepAliveTimeout = init.keepAliveTimeoutMs ?? 30_000;
    const edge = this.edge;

    const app = Fastify({
      logger: false,
      schemaController: lazySchemaCompilers(),
      https: {
        key: keyPem,
        cert: certPem,
        minVersion: 'TLSv1.3',
        handshakeTimeout: headersTimeout,
        // Node checks request/headers timeouts on this interval (default 30 s, too coarse).
        connectionsCheckingInterval: Math.min(1000, headersTimeout),
      } as Record<string, unknown>,
      bodyLimit: edge.maxBodyBytes,
      requestTimeout,
      keepAliveTimeout,
      // Socket inactivity cap; above keepAliveTimeout so keep-alive closes idle sockets cleanly first.
      connectionTimeout: keepAliveTimeout + 5_000,
      forceCloseConnections: 'idle',
      return503OnClosing: true,
      clientErrorHandler: (err: NodeJS.ErrnoException, socket: Socket) => {
        if (err.code === 'ECONNRESET' || socket.destroyed) return;
        if (socket.writable) writeRawReply(socket, badRequestReply('Malformed HTTP request.'));
        socket.destroy();
      },
      frameworkErrors: (_err, _req, reply) => {
        sendReply(reply, badRequestReply('Malformed request URL.'));
      },
    });
    app.server.headersTimeout = headersTimeout;
    app.server.maxConnections = init.maxConnections ?? 1024;
    if (this.guard) {
      limitConnections(app.server as Server, this.guard, {
        trusted: (peer) => this.channelTrust(peer),
        onChannel: (l) => this.onChannel(l),
        logger: init.logger,
      });
    }

    app.server.on('connection', (socket: Socket) => {
      this.accepted.add(socket);
      socket.once('close', () => this.accepted.delete(socket));
    });

    // Every content type reaches the handler as the raw bytes (the body is MAC'd).
    app.removeAllContentTypeParsers();
    app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));

    app.addHook('onRequest', async (req, reply) => {
      const limited = edge.admitRequest(remoteOf(req), req.headers as Record<string, string>);
      if (limited) return sendReply(reply, limited);
    });
    app.setNotFoundHandler((_req, reply) => sendReply(reply, notFoundReply()));
    const hub = this.hub;
    handleUpgrades(app.server as Server, {
      accept: hub && ((link) => hub.accept(link)),
      admit: (remote, headers) => edge.admitRequest(remote, headers),
      notFound: notFoundReply,
      remoteOf: (req) => formatRemote(req.socket.remoteAddress ?? '0.0.0.0', req.socket.remotePort ?? 0),
    });
    app.setErrorHandler((err: { code?: string; statusCode?: number }, _req, reply) => {
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' || err.statusCode === 413) {
        return sendReply(reply, tooLargeReply(edge.maxBodyBytes));
      }
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return sendReply(reply, badRequestReply());
      }
      this.logger?.error({ err }, 'mesh transport: server error');
      return sendReply(reply, internalReply());
    });
    app.post(MESH_PATH, async (req, reply) => {
      const raw = req.body;
      const body = Buffer.isBuffer(raw)
        ? new Uint8Array(raw.buffer, raw.byteOffset, raw.byteLength)
        : new Uint8Array(0);
      const headers = lowerHeaders(req.headers);
      const inbound = { remote: remoteOf(req), headers, body };
      const claim = edge.contactClaim(inbound.remote, headers);
      const answer = claim ? edge.dispatchClaimed(handler, inbound, claim) : edge.dispatch(handler, inbound);
      return sendReply(reply, await answer);
    });

    this.app = app;
    this.handler = handler;
    await app.listen({ host: init.host ?? '0.0.0.0', port: init.port ?? DEFAULT_PORT });
    const addr = app.server.address();
    if (!addr || typeof addr === 'string') throw new Error('HttpsTransport: no bound address');
    return formatRemote(addr.address, addr.port);
  }

  /**
   * Sends one Mesh request. `pin.signPub` pins the server key (contacts); `pin.domain` verifies a
   * CA certificate for that name; no pin accepts any certificate (first contact only: the answer
   * must be authenticated by the protocol layer). HTTP error statuses are returned, not thrown.
   */
  async request(req: OutboundRequest): Promise<InboundResponse> {
    if (this.closed) throw new TransportError('ABORTED', 'Transport is closed');
    const post = () => this.post(req); // also the fallback when the channel is lost under the request
    const viaChannel =
      !req.fresh && req.pin?.signPub && this.hub?.request(req.pin.signPub, req.headers, req.body, req.timeoutMs, post);
    return viaChannel || post();
  }

  private async post(req: OutboundRequest): Promise<InboundResponse> {
    let target: ReturnType<typeof parseAddress>;
    try {
      target = parseAddress(req.address, DEFAULT_PORT);
    } catch (err) {
      throw new TransportError('CONNECT_FAILED', `Bad address "${req.address}"`, { cause: err });
    }
    const u = await loadUndici();
    if (this.closed) throw new TransportError('ABORTED', 'Transport is closed');
    // A fresh request (dial-back probe) gets its own connection, closed after the answer.
    const pool = req.fresh ? this.freshPool(u, target, req.pin) : this.poolFor(u, target, req.pin);
    const ac = new AbortController();
    let timedOut = false;
    const timer = setTimeout(() => {
      timedOut = true;
      ac.abort(new TransportError('TIMEOUT', `No answer from ${req.address} within ${req.timeoutMs} ms`));
    }, req.timeoutMs);
    try {
      const res = await pool.request({
        path: MESH_PATH,
        method: 'POST',
        headers: { 'content-type': JSON_CONTENT_TYPE, ...req.headers },
        body: Buffer.from(req.body.buffer, req.body.byteOffset, req.body.byteLength),
        signal: ac.signal,
        headersTimeout: req.timeoutMs,
        bodyTimeout: req.timeoutMs,
      });
      const limit = this.init.maxResponseBytes ?? 1024 * 1024;
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        size += chunk.byteLength;
        if (size > limit) {
          res.body.destroy();
          throw new TransportError('CONNECT_FAILED', `Response from ${req.address} exceeds ${limit} bytes`);
        }
        chunks.push(chunk);
      }
      const buf = Buffer.concat(chunks, size);
      // undici frees the connection for reuse in a setImmediate after the response; waiting one turn
      // lets the next request reuse this keep-alive socket instead of opening a second one.
      await new Promise((r) => setImmediate(r));
      return { status: res.statusCode, body: new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength) };
    } catch (err) {
      throw toTransportError(err, timedOut, req.address);
    } finally {
      clearTimeout(timer);
      if (req.fresh) void pool.destroy().catch(() => undefined);
    }
  }

  /**
   * Direct upgrade by TCP hole punching (PROTOCOL.md §17, ./punch.ts): simultaneous open from the punch
   * port, then the pinned channel over it. Rejects with a TransportError when the NATs do not let it up.
   */
  async punch(o: punching.PunchOptions): Promise<punching.PunchResult> {
    return punching.punchChannel(this.punchParts(), o);
  }

  /** What punch.ts needs of this transport (also for `channelOverSocket` on a socket connected some other way). */
  punchParts(): punching.PunchComponents {
    const ms = this.init.headersTimeoutMs ?? 5_000;
    return punching.punchComponents(this.hub, this.closed ? null : this.server, this.localAddress, ms);
  }

  /** Our local address changed: keep-alive POST connections from the old one are dead too (§15.5). */
  override networkChanged(): void {
    super.networkChanged();
    const pools = [...this.pools.values()];
    this.pools.clear();
    for (const p of pools) void p.destroy().catch(() => undefined);
  }

  /** Stops the server (in-flight requests get up to 2 s) and destroys all client pools. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.hub?.close();
    const app = this.app;
    this.app = null;
    const pools = [...this.pools.values(), ...this.retired];
    this.pools.clear();
    this.retired.clear();
    await Promise.all([
      app ? closeWithin(app, 2_000) : undefined,
      ...pools.map((p) => p.destroy().catch(() => undefined)),
    ]);
    // Whatever is still open (an upgraded socket whose channel never finished its HELLO) would keep
    // the process alive after stop.
    for (const socket of this.accepted) socket.destroy();
    this.accepted.clear();
  }

  private poolFor(u: Undici, target: { host: string; port: number }, pin: PinSpec | undefined): Pool {
    const pinKey = pin?.signPub
      ? `k:${Buffer.from(pin.signPub).toString('hex')}`
      : pin?.domain
        ? `d:${pin.domain}`
        : '-';
    const key = `${formatAddress(target)}|${pinKey}`;
    let pool = this.pools.get(key);
    if (pool) {
      // Refresh LRU position.
      this.pools.delete(key);
      this.pools.set(key, pool);
      return pool;
    }
    const origin = `https://${formatAddress(target)}`;
    const local = this.localFor(target.host);
    pool = new u.Pool(origin, {
      connections: this.init.connectionsPerPeer ?? 16,
      localAddress: local.localAddress,
      connect: this.connector(u, pin, local.family),
    });
    this.pools.set(key, pool);
    const max = this.init.maxPeerPools ?? 256;
    while (this.pools.size > max) {
      const [oldKey, oldPool] = this.pools.entries().next().value as [string, Pool];
      this.pools.delete(oldKey);
      this.retired.add(oldPool);
      // Graceful: in-flight requests finish.
      void oldPool
        .close()
        .catch(() => undefined)
        .finally(() => this.retired.delete(oldPool));
    }
    return pool;
  }

  /** A one-connection pool outside the LRU (dial-back probe): the caller destroys it after the answer. */
  private freshPool(u: Undici, target: { host: string; port: number }, pin: PinSpec | undefined): Pool {
    const local = this.localFor(target.host);
    return new u.Pool(`https://${formatAddress(target)}`, {
      connections: 1,
      localAddress: local.localAddress,
      connect: this.connector(u, pin, local.family),
    });
  }

  /** Local bind address for a target: only when the address family can match. */
  private localFor(host: string): { localAddress?: string; family?: number } {
    const la = this.localAddress;
    if (!la) return {};
    const lf = isIP(la);
    const tf = isIP(host);
    if (tf === 0) return { localAddress: la, family: lf };
    return tf === lf ? { localAddress: la } : {};
  }

  private connector(u: Undici, pin: PinSpec | undefined, family: number | undefined): buildConnector.connector {
    const common = { timeout: 10_000, ...(family ? { family } : {}) };
    if (pin?.signPub) {
      const expected = Buffer.from(pin.signPub);
      // Key pin: chain and name are irrelevant, the certificate key must be the contact's identity key.
      // No TLS session cache, so every connection presents (and we check) the certificate.
      const base = u.buildConnector({
        ...common,
        rejectUnauthorized: false,
        minVersion: 'TLSv1.3',
        maxCachedSessions: 0,
      });
      return (opts, cb) =>
        base(opts, (err, socket) => {
          if (err || !socket) return cb(err ?? new Error('no socket'), null);
          const got = peerEd25519(socket as TLSSocket);
          if (!got || !expected.equals(got)) {
            socket.destroy();
            return cb(
              new TransportError('TLS_PIN', `Server at ${opts.hostname} does not hold the pinned identity key`),
              null,
            );
          }
          cb(null, socket);
        });
    }
    if (pin?.domain) {
      const domain = pin.domain;
      const ca = this.trustedCas();
      const base = u.buildConnector({ ...common, servername: domain, ...(ca ? { ca } : {}) });
      return (opts, cb) => base({ ...opts, servername: domain }, cb);
    }
    // No pin: first contact only (e.g. answering an invite); the protocol layer authenticates the answer.
    return u.buildConnector({ ...common, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  }

  /** Explicit CA list when extra CAs are configured: system roots + NODE_EXTRA_CA_CERTS + init.ca. */
  private trustedCas(): string[] | undefined {
    if (!this.init.ca?.length) return undefined; // Node's default store already has roots + NODE_EXTRA_CA_CERTS
    if (!this.extraCa) {
      const envFile = process.env.NODE_EXTRA_CA_CERTS;
      let env: string[] = [];
      if (envFile) {
        try {
          env = [readFileSync(envFile, 'utf8')];
        } catch (err) {
          this.logger?.warn({ err, envFile }, 'mesh transport: cannot read NODE_EXTRA_CA_CERTS');
        }
      }
      this.extraCa = [...rootCertificates, ...env, ...this.init.ca];
    }
    return this.extraCa;
  }
}

async function closeWithin(app: FastifyInstance, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(() => {
      app.server.closeAllConnections();
      resolve();
    }, ms);
  });
  await Promise.race([app.close(), grace]);
  clearTimeout(timer);
  await app.close();
}
