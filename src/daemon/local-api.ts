/**
 * The daemon's local API on 127.0.0.1 (DESIGN.md §7): JSON endpoints the CLI and the web page use,
 * a Server-Sent Events stream of live events, and the web page itself. Every /api route needs the
 * token (Authorization: Bearer, or the cookie set by the one-time login link).
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import { MeshError } from '../errors.ts';
import type { MeshNode } from '../runtime/mesh-node.ts';
import { lazySchemaCompilers } from '../transport/lazy-schema-compilers.ts';
import { parseDuration } from '../util/duration.ts';
import { webRoot } from '../web/serve.ts';
import { serveWebFiles } from './web-files.ts';

/** Options of the local API. */
export interface LocalApiInit {
  node: MeshNode;
  token: string;
  /** @default 7576 */
  port?: number;
  /** @default '127.0.0.1' (never expose the local API) */
  host?: string;
  /** Where the built web page lives. @default webRoot() */
  webDir?: string;
}

const STATUS_BY_CODE: Record<string, number> = {
  CONTACT_UNKNOWN: 404,
  REQUEST_UNKNOWN: 404,
  INVALID_ARGUMENT: 400,
  BAD_INVITE: 400,
  ALREADY_CONTACT: 409,
  UNREACHABLE: 504,
  NOT_STARTED: 503,
  STOPPED: 503,
};

/** The events the SSE stream forwards from the node. */
const STREAMED = [
  'contact:request',
  'contact:added',
  'contact:online',
  'contact:offline',
  'contact:address',
  'message:state',
  'relocated',
];

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** The cookie is named per port: two daemons on one machine must not overwrite each other's login. */
function cookieName(port: number | undefined): string {
  return `mesh_token_${port ?? 0}`;
}

function cookieToken(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return null;
}

/** Only local names may reach the API (a guard against DNS rebinding). */
function localHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '');
  return name === '127.0.0.1' || name === 'localhost' || name === '[::1]';
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof MeshError)
    return reply.code(STATUS_BY_CODE[err.code] ?? 400).send({ error: err.code, message: err.message });
  reply.log.error({ err }, 'local API error');
  return reply.code(500).send({ error: 'INTERNAL', message: 'Internal error in the daemon; see its log.' });
}

function str(v: unknown, what: string, max = 100_000): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw MeshError.invalidArgument(`${what} is required`);
  return v;
}

/** Builds the local API server (not yet listening). */
export async function createLocalApi(init: LocalApiInit): Promise<FastifyInstance> {
  const { node, token } = init;
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024, schemaController: lazySchemaCompilers() });

  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('preClose', async () => {
    // Hijacked SSE responses would keep close() waiting forever.
    for (const res of streams) res.end();
    streams.clear();
  });

  app.addHook('onRequest', async (req, reply) => {
    const isApi = req.url.startsWith('/api/');
    if ((isApi || req.url.startsWith('/login')) && !localHost(req.headers.host))
      return reply
        .code(403)
        .send({ error: 'FORBIDDEN', message: 'The local API answers only to 127.0.0.1 / localhost.' });
    if (!isApi) return;
    const auth = req.headers.authorization;
    const given = auth?.startsWith('Bearer ')
      ? auth.slice(7)
      : cookieToken(req.headers.cookie, cookieName(req.socket.localPort));
    if (!given || !sameToken(given, token))
      return reply.code(401).send({
        error: 'UNAUTHORIZED',
        message: 'Open the link that `mesh start` printed (it carries the access token).',
      });
  });

  app.get('/login', async (req, reply) => {
    const q = req.query as { token?: string };
    if (!q.token || !sameToken(q.token, token))
      return reply
        .code(401)
        .type('text/plain')
        .send('This login link is not valid. Use the link that `mesh start` printed.');
    return reply
      .header(
        'set-cookie',
        `${cookieName(req.socket.localPort)}=${encodeURIComponent(token)}; HttpOnly; SameSite=Strict; Path=/`,
      )
      .redirect('/');
  });

  app.get('/api/id', async () => {
    const a = node.addresses();
    const self = node.store.getSelf()!;
    return {
      uuid: self.uuid,
      name: self.name,
      publicKey: node.publicKey(),
      listen: a.listen,
      observed: a.observed,
      advertised: a.advertised,
    };
  });
  app.get('/api/status', async () => node.status());
  app.get('/api/contacts', async () => node.contacts());
  app.get('/api/referrals', async () => node.referrals());
  app.get('/api/requests', async () => node.requests());
  app.get('/api/inbox', async (req) => {
    const q = req.query as { since?: string; limit?: string };
    return node.inbox({ since: q.since ? Number(q.since) : undefined, limit: q.limit ? Number(q.limit) : undefined });
  });
  app.get('/api/messages', async (req, reply) => {
    try {
      const q = req.query as { with?: string };
      return node.conversation(node.findContact(str(q.with, 'with (a contact uuid)')).uuid);
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.post('/api/invite', async (req, reply) => {
    try {
      const b = (req.body ?? {}) as { ttl?: string; noAddress?: boolean };
      const r = await node.invite({ ttlMs: b.ttl ? parseDuration(b.ttl) : undefined, noAddress: b.noAddress === true });
      return { ...r, link: `mesh:${r.code}` };
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.post('/api/add', async (req, reply) => {
    try {
      const b = (req.body ?? {}) as { code?: string; name?: string };
      return await node.add(str(b.code, 'code').trim(), b.name ? str(b.name, 'name', 100) : undefined);
    } catch (e) {
      return sendError(reply, e);
    }
  });
  for (const action of ['accept', 'reject'] as const) {
    app.post(`/api/${action}`, async (req, reply) => {
      try {
        const b = (req.body ?? {}) as { uuid?: string };
        return await node[action](str(b.uuid, 'uuid', 64));
      } catch (e) {
        return sendError(reply, e);
      }
    });
  }
  app.post('/api/send', async (req, reply) => {
    try {
      const b = (req.body ?? {}) as { to?: string; text?: string };
      return { id: await node.send(str(b.to, 'to'), str(b.text, 'text')) };
    } catch (e) {
      return sendError(reply, e);
    }
  });
  app.post('/api/bootstrap', async (req, reply) => {
    try {
      const b = (req.body ?? {}) as { url?: string };
      return await node.bootstrap(str(b.url, 'url', 300));
    } catch (e) {
      return sendError(reply, e);
    }
  });

  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    streams.add(res);
    const write = (event: string, data: unknown) => res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const listeners: [string, (d: unknown) => void][] = [];
    const on = (event: string, fn: (d: unknown) => void) => {
      node.on(event, fn);
      listeners.push([event, fn]);
    };
    const me = node.uuid;
    on('message', (m) => {
      const msg = m as { id: string; from: string; text: string; sentAt: number; receivedAt: number };
      write('message', { ...msg, to: me, state: 'received', direction: 'in' });
    });
    for (const ev of STREAMED) on(ev, (d) => write(ev, d));
    let last = '';
    const tick = () => {
      try {
        const s = JSON.stringify(node.status());
        if (s !== last) res.write(`event: status\ndata: ${s}\n\n`);
        else res.write(': keep-alive\n\n');
        last = s;
      } catch {
        /* node stopping */
      }
    };
    tick();
    const timer = setInterval(tick, 3000);
    req.raw.on('close', () => {
      streams.delete(res);
      clearInterval(timer);
      for (const [ev, fn] of listeners) node.off(ev, fn);
    });
  });

  const dir = init.webDir ?? webRoot();
  if (existsSync(join(dir, 'index.html'))) {
    serveWebFiles(app, dir);
  } else {
    app.get('/', async (_req, reply) =>
      reply
        .type('text/html')
        .send(
          '<!doctype html><title>Mesh</title><p>The web page is not built. Run <code>npm run build:web</code> and restart the node.</p>',
        ),
    );
  }
  app.setNotFoundHandler((req, reply) => {
    if (req.url.startsWith('/api/'))
      return reply.code(404).send({ error: 'NOT_FOUND', message: `No API route ${req.method} ${req.url}` });
    return reply.code(404).type('text/plain').send('Not found');
  });
  return app;
}
