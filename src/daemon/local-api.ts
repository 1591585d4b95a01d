/**
 * The daemon's local API on 127.0.0.1 (DESIGN.md §7): JSON endpoints the CLI and the web page use,
 * a Server-Sent Events stream of live events, and the web page itself. Every /api route needs the
 * token (Authorization: Bearer) or a browser session (the cookie the one-time login link sets, which
 * holds a session id, never the token); a cookie-authenticated call that changes state must come from
 * our own Origin. The rules are written down in src/api/contract.ts (API_PREFIX) and docs/SECURITY.md.
 */
import { timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import Fastify, { type FastifyInstance, type FastifyReply } from 'fastify';
import {
  API_ERRORS,
  API_EVENTS_ROUTE,
  API_PREFIX,
  API_ROUTES,
  type ApiErrorBody,
  type ApiEventName,
  type ApiEvents,
  type ApiOutput,
  type ApiRouteName,
  apiErrorStatus,
  cookieName,
  LOGIN_ROUTE,
  LOGOUT_ROUTE,
  localOrigins,
} from '../api/contract.ts';
import { MeshError } from '../errors.ts';
import type { AppEvent } from '../protocol/events.ts';
import type { InboxRecord } from '../protocol/types.ts';
import type { MeshNode } from '../runtime/mesh-node.ts';
import { lazySchemaCompilers } from '../transport/lazy-schema-compilers.ts';
import { parseDuration, parseTime } from '../util/duration.ts';
import { ApiSessions } from './api-sessions.ts';
import { serveWebFiles, webRoot } from './web-files.ts';

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
  /**
   * The browser sessions. Passed in when the HTTP server is restarted inside one daemon (tests), so
   * logins survive it like they survive a dropped connection. @default a new, empty table
   */
  sessions?: ApiSessions;
  /** The clock sessions expire by. @default Date.now */
  now?: () => number;
}

/** A node event's payload: the core's AppEvent without its tag. */
type NodePayload<E> = Omit<Extract<AppEvent, { event: E }>, 'event'>;

/**
 * Node events the stream forwards as they are (same name, same payload); `message` and `status` are
 * built here. Each entry is `true` only when the core's payload fits the contract's, so a change on
 * either side fails to compile instead of drifting.
 */
const FORWARDED: {
  [E in Exclude<ApiEventName, 'message' | 'status'>]: NodePayload<E> extends ApiEvents[E] ? true : false;
} = {
  'message:state': true,
  'contact:request': true,
  'contact:added': true,
  'contact:online': true,
  'contact:offline': true,
  'contact:address': true,
  relocated: true,
};

function sameToken(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(';')) {
    const [k, ...v] = part.trim().split('=');
    // Session ids are base64url: no decoding (a stray `%` would make decodeURIComponent throw).
    if (k === name) return v.join('=');
  }
  return null;
}

/**
 * May a cookie-authenticated call go on? Browsers send our cookie along with requests that pages on
 * OTHER local ports make (same site, so SameSite=Strict does not help): a foreign `Origin` is refused
 * on every method, and a state-changing call must name our origin — browsers always send `Origin` on
 * non-GET requests, so one without it does not come from our page.
 */
function originAllowed(method: string, origin: string | undefined, apiPort: number | undefined): boolean {
  if (origin === undefined) return method === 'GET' || method === 'HEAD';
  return apiPort !== undefined && localOrigins(apiPort).includes(origin);
}

/** Only local names may reach the API (a guard against DNS rebinding). */
function localHost(host: string | undefined): boolean {
  if (!host) return false;
  const name = host.replace(/:\d+$/, '');
  return name === '127.0.0.1' || name === 'localhost' || name === '[::1]';
}

/** Answers an error under /api/ with the contract's body and status. */
function fail(reply: FastifyReply, error: keyof typeof API_ERRORS, message: string): FastifyReply {
  return reply.code(API_ERRORS[error]).send({ error, message } satisfies ApiErrorBody);
}

function sendError(reply: FastifyReply, err: unknown): FastifyReply {
  if (err instanceof MeshError)
    return reply.code(apiErrorStatus(err.code)).send({ error: err.code, message: err.message } satisfies ApiErrorBody);
  reply.log.error({ err }, 'local API error');
  return fail(reply, 'INTERNAL', 'Internal error in the daemon; see its log.');
}

/** A route's raw input: the parsed query (GET) or JSON body (POST), validated by its handler. */
type RawInput = Record<string, unknown>;

/** One handler per JSON route of the contract, answering the contract's output type. */
type ApiHandlers = { [K in ApiRouteName]: (input: RawInput) => ApiOutput<K> | Promise<ApiOutput<K>> };

function str(v: unknown, what: string, max = 100_000): string {
  if (typeof v !== 'string' || v.length === 0 || v.length > max) throw MeshError.invalidArgument(`${what} is required`);
  return v;
}

/** Builds the local API server (not yet listening). */
export async function createLocalApi(init: LocalApiInit): Promise<FastifyInstance> {
  const { node, token } = init;
  const sessions = init.sessions ?? new ApiSessions();
  const now = init.now ?? Date.now;
  const app = Fastify({ logger: false, bodyLimit: 256 * 1024, schemaController: lazySchemaCompilers() });

  const streams = new Set<import('node:http').ServerResponse>();
  app.addHook('preClose', async () => {
    // Hijacked SSE responses would keep close() waiting forever.
    for (const res of streams) res.end();
    streams.clear();
  });

  app.addHook('onRequest', async (req, reply) => {
    const isApi = req.url.startsWith(API_PREFIX);
    if ((isApi || req.url.startsWith(LOGIN_ROUTE.path)) && !localHost(req.headers.host))
      return fail(reply, 'FORBIDDEN', 'The local API answers only to 127.0.0.1 / localhost.');
    if (!isApi) return;
    const auth = req.headers.authorization;
    // The token: the CLI and scripts. No Origin check — a page on another origin cannot know it.
    if (auth?.startsWith('Bearer ')) {
      if (sameToken(auth.slice(7), token)) return;
      return fail(reply, 'UNAUTHORIZED', 'Wrong API token: it is the `api-token` file in the data dir.');
    }
    const port = req.socket.localPort;
    const session = cookieValue(req.headers.cookie, cookieName(port));
    if (!session || !sessions.valid(session, now()))
      return fail(reply, 'UNAUTHORIZED', 'Open the link that `mesh start` printed (it logs this browser in).');
    if (!originAllowed(req.method, req.headers.origin, port))
      return fail(
        reply,
        'FORBIDDEN_ORIGIN',
        `Only the page served by this daemon (${localOrigins(port ?? 0).join(' or ')}) may change anything with its login.`,
      );
  });

  app.get(LOGIN_ROUTE.path, async (req, reply) => {
    const q = req.query as { token?: string };
    // The token is in this URL: keep it out of caches and out of the Referer of anything loaded next.
    reply.header('cache-control', 'no-store').header('referrer-policy', 'no-referrer');
    if (typeof q.token !== 'string' || !sameToken(q.token, token))
      return reply
        .code(401)
        .type('text/plain')
        .send('This login link is not valid. Use the link that `mesh start` printed.');
    const { id, maxAgeMs } = sessions.create(now());
    return reply
      .header(
        'set-cookie',
        `${cookieName(req.socket.localPort)}=${id}; HttpOnly; SameSite=Strict; Path=/; Max-Age=${Math.floor(maxAgeMs / 1000)}`,
      )
      .redirect('/');
  });

  app.post(LOGOUT_ROUTE.path, async (req, reply) => {
    const name = cookieName(req.socket.localPort);
    const session = cookieValue(req.headers.cookie, name);
    if (session) sessions.revoke(session);
    return reply.header('set-cookie', `${name}=; HttpOnly; SameSite=Strict; Path=/; Max-Age=0`).send({ ok: true });
  });

  const handlers: ApiHandlers = {
    id: () => {
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
    },
    status: () => node.status(),
    contacts: () => node.contacts(),
    referrals: () => node.referrals(),
    requests: () => node.requests(),
    inbox: (q) =>
      node.inbox({ since: q.since ? Number(q.since) : undefined, limit: q.limit ? Number(q.limit) : undefined }),
    messages: (q) => node.conversation(node.findContact(str(q.with, 'with (a contact uuid)')).uuid),
    invite: async (b) => {
      const r = await node.invite({
        ttlMs: b.ttl ? parseDuration(String(b.ttl)) : undefined,
        noAddress: b.noAddress === true,
      });
      return { ...r, link: `mesh:${r.code}` };
    },
    add: (b) => node.add(str(b.code, 'code').trim(), b.name ? str(b.name, 'name', 100) : undefined),
    accept: (b) => node.accept(str(b.uuid, 'uuid', 64)),
    reject: (b) => node.reject(str(b.uuid, 'uuid', 64)),
    send: async (b) => ({ id: await node.send(str(b.to, 'to'), str(b.text, 'text')) }),
    bootstrap: (b) => node.bootstrap(str(b.url, 'url', 300)),
    removeContact: (b) => node.removeContact(str(b.uuid, 'uuid', 200)),
    clearInbox: (b) => {
      const before = b.before;
      if (before === undefined || before === null) return node.clearInbox();
      if (typeof before !== 'number' && typeof before !== 'string')
        throw MeshError.invalidArgument('before must be unix ms or an ISO date');
      return node.clearInbox({ before: parseTime(before) });
    },
  };
  // Registered from the contract's table: a route is served exactly when the contract lists it.
  for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
    const { method, path } = API_ROUTES[name];
    const handle = handlers[name] as (input: RawInput) => unknown;
    app.route({
      method,
      url: path,
      handler: async (req, reply) => {
        try {
          return await handle(((method === 'GET' ? req.query : req.body) ?? {}) as RawInput);
        } catch (e) {
          return sendError(reply, e);
        }
      },
    });
  }

  app.get(API_EVENTS_ROUTE.path, (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', connection: 'keep-alive' });
    streams.add(res);
    const write = <E extends ApiEventName>(event: E, data: ApiEvents[E]) =>
      res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    const listeners: [string, (d: unknown) => void][] = [];
    const on = (event: string, fn: (d: unknown) => void) => {
      node.on(event, fn);
      listeners.push([event, fn]);
    };
    const me = node.uuid;
    on('message', (m) => write('message', { ...(m as InboxRecord), to: me, state: 'received', direction: 'in' }));
    for (const ev of Object.keys(FORWARDED) as (keyof typeof FORWARDED)[])
      on(ev, (d) => write(ev, d as ApiEvents[typeof ev]));
    let last = '';
    const tick = () => {
      try {
        const s = JSON.stringify(node.status() satisfies ApiEvents['status']);
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
    if (req.url.startsWith(API_PREFIX)) return fail(reply, 'NOT_FOUND', `No API route ${req.method} ${req.url}`);
    return reply.code(404).type('text/plain').send('Not found');
  });
  return app;
}
