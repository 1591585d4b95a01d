/**
 * An in-memory stand-in for the daemon's local API (DESIGN §7 + the web contract), serving the built
 * page exactly as the daemon does. For developing the page and for the fast browser test; it has no
 * protocol behind it.
 *
 *   const fake = await startFakeApi({ token: 'secret' });
 *   // open fake.loginUrl in a browser …
 *   fake.push('message', { id: 'm9', from: fake.fixture.alice, … });
 *   await fake.close();
 *
 * Run by hand: `node --import tsx src/web/dev/fake-api.ts [--port 7576]` (auto-delivers messages).
 */
import { randomBytes, randomUUID, timingSafeEqual } from 'node:crypto';
import { existsSync } from 'node:fs';
import type { ServerResponse } from 'node:http';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyReply, type FastifyRequest } from 'fastify';
import { buildWeb, webRoot } from '../serve.ts';

/** Options of the fake; everything optional. */
export interface FakeApiInit {
  /** @default 0 (any free port) */
  port?: number;
  /** @default random hex */
  token?: string;
  /** Move sent messages to sent → delivered by itself (contact online) instead of waiting for push(). @default false */
  autoDeliver?: boolean;
  /** How long POST /api/add takes, like a real contact request. @default 600 */
  addDelayMs?: number;
  /** Period of the `status` event; 0 turns it off. @default 3000 */
  statusEveryMs?: number;
}

interface FakeContact {
  uuid: string;
  name: string;
  address: string | null;
  online: boolean;
  lastSeen: number | null;
  status: 'active' | 'inactive' | 'pending';
}

interface FakeMessage {
  id: string;
  from: string;
  to: string;
  text: string;
  sentAt: number;
  receivedAt: number | null;
  state: 'queued' | 'sent' | 'delivered' | 'failed' | 'received';
  direction: 'in' | 'out';
}

/** Fixed UUIDs of the fixture, so tests can address them. */
export const FIXTURE = {
  self: '5f0c3a8e-91d2-8b47-a3e1-0c6d2f9b7a41',
  alice: 'a11ce000-4b1e-8c3d-9e2f-1a2b3c4d5e6f',
  bob: 'b0b00000-7c2a-8d4e-8f10-2b3c4d5e6f70',
  carol: 'ca201000-1d2e-8f3a-b4c5-d6e7f8091a2b',
  dave: 'da7e0000-2e3f-8a4b-95c6-e7f8091a2b3c',
  erin: 'e2140000-3f4a-8b5c-a6d7-f8091a2b3c4d',
  frank: 'f2a4c000-4a5b-8c6d-b7e8-091a2b3c4d5e',
  grace: '62ace000-5b6c-8d7e-88f9-1a2b3c4d5e6f',
  carolPhrase: 'harbor velvet cactus noodle lantern pizza',
  /** Distinct nodes the neighbourhood must draw: self + 2 contacts + dave, erin, frank, grace. */
  neighbourhoodNodes: 7,
} as const;

/** A running fake; `push` sends an SSE event to every open page. */
export interface FakeApi {
  url: string;
  port: number;
  token: string;
  loginUrl: string;
  contacts: FakeContact[];
  messages: FakeMessage[];
  requests: { uuid: string; name: string; authPhrase: string; receivedAt: number }[];
  /** Bodies of every POST, newest last, for assertions. */
  posts: { path: string; body: unknown }[];
  push(event: string, data: unknown): void;
  /** Number of connected event streams. */
  streams(): number;
  /** Stops like a crash: drops every connection at once. */
  close(): Promise<void>;
}

const WORDS =
  'apple brick cloud dune ember fjord grove hazel iris jade kite lemon maple nectar olive pearl quartz river sage tulip umber violet willow yarrow zephyr'.split(
    ' ',
  );

function phrase(): string {
  return Array.from(randomBytes(6), (b) => WORDS[b % WORDS.length]).join(' ');
}

/** Starts the fake on 127.0.0.1. Builds the page first if src/web/dist is missing. */
export async function startFakeApi(init: FakeApiInit = {}): Promise<FakeApi> {
  if (!existsSync(join(webRoot(), 'index.html'))) await buildWeb();
  const token = init.token ?? randomBytes(16).toString('hex');
  const addDelayMs = init.addDelayMs ?? 600;
  const now = Date.now();
  const F = FIXTURE;

  const contacts: FakeContact[] = [
    { uuid: F.alice, name: 'Alice', address: '127.0.0.2:7575', online: true, lastSeen: now, status: 'active' },
    {
      uuid: F.bob,
      name: 'Bob',
      address: '192.0.2.10:7575',
      online: false,
      lastSeen: now - 2 * 3600_000,
      status: 'inactive',
    },
  ];
  const referrals = [
    { referent: F.dave, via: F.alice, hops: 1 },
    { referent: F.erin, via: F.alice, hops: 1 },
    { referent: F.erin, via: F.bob, hops: 1 },
    { referent: F.frank, via: F.alice, hops: 2 },
    { referent: F.grace, via: F.bob, hops: 1 },
    // About a contact and about ourselves: the picture must not draw these twice.
    { referent: F.bob, via: F.alice, hops: 1 },
    { referent: F.self, via: F.bob, hops: 1 },
  ].map((r) => ({ ...r, expiresAt: now + 3600_000 }));
  const requests = [{ uuid: F.carol, name: 'Carol', authPhrase: F.carolPhrase, receivedAt: now - 5 * 60_000 }];
  const messages: FakeMessage[] = [
    {
      id: 'm1',
      from: F.alice,
      to: F.self,
      text: 'Hi! Did the new router work?',
      sentAt: now - 3600_000,
      receivedAt: now - 3599_000,
      state: 'received',
      direction: 'in',
    },
    {
      id: 'm2',
      from: F.self,
      to: F.alice,
      text: 'Yes — and Mesh found you again through Bob.',
      sentAt: now - 3500_000,
      receivedAt: null,
      state: 'delivered',
      direction: 'out',
    },
    {
      id: 'm3',
      from: F.alice,
      to: F.self,
      text: 'Nice, no server in the middle!',
      sentAt: now - 3400_000,
      receivedAt: now - 3399_000,
      state: 'received',
      direction: 'in',
    },
  ];
  const posts: FakeApi['posts'] = [];
  const streams = new Set<ServerResponse>();
  const listen = ['127.0.0.1:7575'];
  const observed = ['203.0.113.7:7575'];

  const status = () => ({
    uuid: F.self,
    name: 'Me',
    listen,
    observed,
    contacts: { total: contacts.length, online: contacts.filter((c) => c.online).length },
    referrals: referrals.length,
    outbox: messages.filter((m) => m.direction === 'out' && (m.state === 'queued' || m.state === 'sent')).length,
  });

  function push(event: string, data: unknown): void {
    const frame = `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
    for (const s of streams) s.write(frame);
  }

  function setState(m: FakeMessage, state: FakeMessage['state']): void {
    m.state = state;
    push('message:state', { id: m.id, to: m.to, state });
  }

  const app = Fastify({ logger: false, forceCloseConnections: true });

  function authorized(req: FastifyRequest): boolean {
    const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
    const cookie = /(?:^|;\s*)mesh_token=([^;]+)/.exec(req.headers.cookie ?? '')?.[1];
    const given = Buffer.from(bearer ?? cookie ?? '');
    const want = Buffer.from(token);
    return given.length === want.length && timingSafeEqual(given, want);
  }

  const fail = (reply: FastifyReply, status: number, error: string, message: string) =>
    reply.code(status).send({ error, message });

  app.addHook('onRequest', async (req, reply) => {
    if (req.url.startsWith('/api/') && !authorized(req)) {
      return fail(reply, 401, 'UNAUTHORIZED', 'Open the link that `mesh start` printed to log this browser in.');
    }
  });
  app.addHook('preClose', async () => {
    for (const s of streams) s.destroy();
    streams.clear();
  });

  app.get('/login', async (req, reply) => {
    const given = (req.query as { token?: string }).token ?? '';
    if (given !== token) {
      return reply
        .code(401)
        .type('text/html; charset=utf-8')
        .send(
          '<!doctype html><title>Mesh</title><p>This login link is not valid. Open the link that <code>mesh start</code> printed.</p>',
        );
    }
    return reply
      .header('set-cookie', `mesh_token=${token}; HttpOnly; SameSite=Strict; Path=/`)
      .header('cache-control', 'no-store')
      .redirect('/', 302);
  });

  app.get('/api/id', async () => ({ uuid: F.self, name: 'Me', publicKey: 'ZmFrZS1wdWJsaWMta2V5', listen, observed }));
  app.get('/api/status', async () => status());
  app.get('/api/contacts', async () => contacts);
  app.get('/api/referrals', async () => referrals);
  app.get('/api/requests', async () => requests);
  app.get('/api/messages', async (req, reply) => {
    const other = (req.query as { with?: string }).with;
    if (!other) return fail(reply, 400, 'BAD_REQUEST', 'Say whose messages: /api/messages?with=UUID');
    return messages.filter((m) => m.from === other || m.to === other);
  });

  app.post('/api/invite', async (req) => {
    const body = (req.body ?? {}) as { ttl?: string; noAddress?: boolean };
    posts.push({ path: '/api/invite', body });
    const code = `mesh1-${randomBytes(20).toString('base64url')}`;
    const hours = body.ttl === '1h' ? 1 : body.ttl === '7d' ? 168 : 24;
    return { code, expiresAt: Date.now() + hours * 3600_000, link: `mesh:${code}` };
  });

  app.post('/api/add', async (req, reply) => {
    const body = (req.body ?? {}) as { code?: string; name?: string };
    posts.push({ path: '/api/add', body });
    await new Promise((r) => setTimeout(r, addDelayMs));
    if (!body.code?.trim().startsWith('mesh1-')) {
      return fail(reply, 400, 'BAD_INVITE', 'This is not a Mesh invite code. Check that you copied all of it.');
    }
    const c: FakeContact = {
      uuid: randomUUID(),
      name: body.name?.trim() || 'New friend',
      address: null,
      online: false,
      lastSeen: null,
      status: 'pending',
    };
    contacts.push(c);
    return { uuid: c.uuid, name: c.name, authPhrase: phrase() };
  });

  app.post('/api/accept', async (req, reply) => {
    const { uuid } = (req.body ?? {}) as { uuid?: string };
    posts.push({ path: '/api/accept', body: req.body });
    const i = requests.findIndex((r) => r.uuid === uuid);
    if (i < 0) return fail(reply, 404, 'NO_SUCH_REQUEST', 'There is no pending request from that node.');
    const [r] = requests.splice(i, 1);
    contacts.push({
      uuid: r.uuid,
      name: r.name,
      address: '127.0.0.4:7575',
      online: true,
      lastSeen: Date.now(),
      status: 'active',
    });
    push('contact:added', { uuid: r.uuid, name: r.name });
    push('status', status());
    return { uuid: r.uuid };
  });

  app.post('/api/reject', async (req, reply) => {
    const { uuid } = (req.body ?? {}) as { uuid?: string };
    posts.push({ path: '/api/reject', body: req.body });
    const i = requests.findIndex((r) => r.uuid === uuid);
    if (i < 0) return fail(reply, 404, 'NO_SUCH_REQUEST', 'There is no pending request from that node.');
    requests.splice(i, 1);
    return { uuid };
  });

  app.post('/api/send', async (req, reply) => {
    const { to, text } = (req.body ?? {}) as { to?: string; text?: string };
    posts.push({ path: '/api/send', body: req.body });
    const c = contacts.find((x) => x.uuid === to);
    if (!c) return fail(reply, 404, 'CONTACT_UNKNOWN', 'That node is not one of your contacts.');
    if (!text?.trim()) return fail(reply, 400, 'BAD_REQUEST', 'The message is empty.');
    const m: FakeMessage = {
      id: randomBytes(16).toString('base64url'),
      from: F.self,
      to: c.uuid,
      text,
      sentAt: Date.now(),
      receivedAt: null,
      state: 'queued',
      direction: 'out',
    };
    messages.push(m);
    if (init.autoDeliver && c.online) {
      setTimeout(() => setState(m, 'sent'), 300);
      setTimeout(() => setState(m, 'delivered'), 900);
      setTimeout(() => {
        const echo: FakeMessage = {
          id: randomBytes(16).toString('base64url'),
          from: c.uuid,
          to: F.self,
          text: `(${c.name} got it: “${text.slice(0, 40)}”)`,
          sentAt: Date.now(),
          receivedAt: Date.now(),
          state: 'received',
          direction: 'in',
        };
        messages.push(echo);
        push('message', echo);
      }, 1800);
    }
    return { id: m.id };
  });

  app.get('/api/events', (req, reply) => {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      connection: 'keep-alive',
      'x-accel-buffering': 'no',
    });
    res.write(': connected\n\n');
    streams.add(res);
    req.raw.on('close', () => streams.delete(res));
  });

  await app.register(fastifyStatic, { root: webRoot(), prefix: '/', index: 'index.html' });

  const timers: ReturnType<typeof setInterval>[] = [];
  const statusEvery = init.statusEveryMs ?? 3000;
  if (statusEvery > 0) timers.push(setInterval(() => push('status', status()), statusEvery));
  timers.push(setInterval(() => push('ping', {}), 15_000).unref());

  await app.listen({ host: '127.0.0.1', port: init.port ?? 0 });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : (init.port ?? 0);
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    port,
    token,
    loginUrl: `${url}/login?token=${token}`,
    contacts,
    messages,
    requests,
    posts,
    push,
    streams: () => streams.size,
    async close() {
      for (const t of timers) clearInterval(t);
      for (const s of streams) s.destroy();
      streams.clear();
      app.server.closeAllConnections();
      await app.close();
    },
  };
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const i = process.argv.indexOf('--port');
  const port = i > 0 ? Number(process.argv[i + 1]) : 7576;
  const fake = await startFakeApi({ port, autoDeliver: true, token: process.env.MESH_FAKE_TOKEN });
  console.log(`Fake Mesh API on ${fake.url}\nOpen ${fake.loginUrl}`);
  const stop = () => void fake.close().then(() => process.exit(0));
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}
