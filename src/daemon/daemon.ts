/**
 * `mesh start`: opens the node in a data dir, serves Mesh on --host:--port and the local API on
 * 127.0.0.1:--api-port, and stops gracefully on SIGINT / SIGTERM.
 */
import { readFileSync } from 'node:fs';
import pino from 'pino';
import { MeshError } from '../errors.ts';
import type { Logger } from '../ports.ts';
import type { CoreInit } from '../protocol/config.ts';
import { DEFAULT_API_PORT, DEFAULT_PORT } from '../protocol/constants.ts';
import { MeshNode } from '../runtime/mesh-node.ts';
import { SqliteStore } from '../store/index.ts';
import { HttpsTransport } from '../transport/https/index.ts';
import { ApiSessions } from './api-sessions.ts';
import { loadOrCreateIdentityCert } from './identity-cert.ts';
import { createLocalApi } from './local-api.ts';
import {
  dataPaths,
  ensureDataDir,
  loadOrCreateToken,
  readDaemonInfo,
  removeDaemonInfo,
  writeDaemonInfo,
} from './paths.ts';

/** Options of `mesh start`. */
export interface DaemonInit {
  dataDir: string;
  /** @default '0.0.0.0' */
  host?: string;
  /** @default 7575 */
  port?: number;
  /** @default 7576 */
  apiPort?: number;
  bootstrap?: string[];
  public?: boolean;
  acceptAll?: boolean;
  domain?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** Extra protocol options (tests, experiments). */
  core?: CoreInit;
  /** Map our port on the home router when it offers UPnP-IGD / NAT-PMP (PROTOCOL.md §15.6). @default true (not with --domain) */
  portMapping?: boolean;
  /**
   * Punch port (docs/PROTOCOL.md §17.1): channels are dialled from it and hole punching starts from it;
   * 0 = no punching. @default the Mesh port + 2 (7577: 7576 is the local API), none when the port is 0
   */
  punchPort?: number;
  /** pino level. @default 'info' */
  logLevel?: string;
  /** Where logs go. @default stderr */
  logStream?: NodeJS.WritableStream;
}

/** A running daemon. */
export interface Daemon {
  node: MeshNode;
  uuid: string;
  listen: string;
  apiUrl: string;
  loginUrl: string;
  stop(): Promise<void>;
}

/** Starts a node and its local API. */
export async function startDaemon(init: DaemonInit): Promise<Daemon> {
  const dir = init.dataDir;
  ensureDataDir(dir);
  const running = readDaemonInfo(dir);
  if (running && running.pid !== process.pid)
    throw new MeshError(
      'ALREADY_RUNNING',
      `A node is already running for ${dir} (pid ${running.pid}). Stop it first, or use another --data-dir.`,
    );
  const paths = dataPaths(dir);
  const store = SqliteStore.open(paths.db);
  const self = store.getSelf();
  if (!self) {
    store.close();
    throw MeshError.notInitialised(dir);
  }
  if ((init.domain || init.tlsCert || init.tlsKey) && !(init.domain && init.tlsCert && init.tlsKey)) {
    store.close();
    throw MeshError.invalidArgument(
      '--domain, --tls-cert and --tls-key go together (a peer with a domain serves a CA-valid certificate)',
    );
  }
  const logger = pino(
    { level: init.logLevel ?? 'info', base: { node: self.uuid.slice(0, 8) } },
    (init.logStream ?? process.stderr) as pino.DestinationStream,
  ) as unknown as Logger;
  const port = init.port ?? DEFAULT_PORT;
  const punchPort = init.punchPort ?? (port === 0 ? 0 : port + 2);
  if (!Number.isInteger(punchPort) || punchPort < 0 || punchPort > 65535 || (punchPort !== 0 && punchPort === port)) {
    store.close();
    throw MeshError.invalidArgument(`--punch-port must be 0..65535 and not the Mesh port, got ${punchPort}`);
  }
  const transport = new HttpsTransport({
    host: init.host ?? '0.0.0.0',
    port: init.port ?? DEFAULT_PORT,
    signPriv: self.signPriv,
    signPub: self.signPub,
    // The identity's box key enables the channel binding (docs/PROTOCOL.md §13): one persistent,
    // authenticated channel per active contact beside POST.
    boxPub: self.boxPub,
    // A peer with a domain serves its CA certificate; every other node its stored self-signed one
    // (the transport would otherwise create a fresh one on each start, see identity-cert.ts).
    tls:
      init.tlsCert && init.tlsKey
        ? { certPem: readFileSync(init.tlsCert, 'utf8'), keyPem: readFileSync(init.tlsKey, 'utf8') }
        : await loadOrCreateIdentityCert(dir, self),
    logger: logger.child({ component: 'https' }),
    ...(punchPort ? { punchPort } : {}),
  });
  const node = new MeshNode({
    store,
    transport,
    logger: logger.child({ component: 'node' }),
    core: {
      isPublic: init.public === true,
      acceptAll: init.acceptAll === true,
      punchPort: punchPort || null,
      ...init.core,
    },
    advertise: init.domain ? `${init.domain}:${init.port ?? DEFAULT_PORT}` : undefined,
    portMapping: init.portMapping !== false && !init.domain,
  });
  try {
    await node.start();
  } catch (e) {
    await node.stop().catch(() => {});
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      throw new MeshError(
        'ADDRESS_IN_USE',
        `Port ${init.port ?? DEFAULT_PORT} on ${init.host ?? '0.0.0.0'} is in use: is another node running? Pick another with --port or --host.`,
      );
    if (err.code === 'EADDRNOTAVAIL')
      throw new MeshError(
        'ADDRESS_NOT_AVAILABLE',
        `This machine has no address ${init.host}: pick one of its addresses with --host.`,
      );
    throw e;
  }
  const token = loadOrCreateToken(dir);
  const api = await createLocalApi({ node, token, sessions: ApiSessions.inDataDir(dir) });
  const apiPort = init.apiPort ?? DEFAULT_API_PORT;
  try {
    await api.listen({ host: '127.0.0.1', port: apiPort });
  } catch (e) {
    await node.stop().catch(() => {});
    const err = e as NodeJS.ErrnoException;
    if (err.code === 'EADDRINUSE')
      throw new MeshError('ADDRESS_IN_USE', `The local API port ${apiPort} is in use: pick another with --api-port.`);
    throw e;
  }
  const boundApi = (api.server.address() as { port: number }).port;
  const listen = node.addresses().listen[0];
  writeDaemonInfo(dir, {
    pid: process.pid,
    uuid: self.uuid,
    apiPort: boundApi,
    listen: [listen],
    startedAt: Date.now(),
  });
  for (const url of init.bootstrap ?? []) {
    node.bootstrap(url).then(
      (r) => logger.info({ url, uuid: r.uuid }, 'bootstrap peer added'),
      (e: Error) => logger.warn({ url, err: e.message }, 'bootstrap failed'),
    );
  }
  let stopped = false;
  return {
    node,
    uuid: self.uuid,
    listen,
    apiUrl: `http://127.0.0.1:${boundApi}`,
    loginUrl: `http://127.0.0.1:${boundApi}/login?token=${encodeURIComponent(token)}`,
    async stop() {
      if (stopped) return;
      stopped = true;
      await api.close();
      await node.stop();
      removeDaemonInfo(dir);
    },
  };
}
