/**
 * The daemon's local API against its contract (src/api/contract.ts): it serves exactly the
 * contract's routes, answers the contract's error codes with their status, and its event stream
 * sends only the contract's event names. Real MeshNodes on a memory network stand behind it.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance, InjectOptions } from 'fastify';
import {
  API_ERRORS,
  API_EVENT_NAMES,
  API_EVENTS_ROUTE,
  API_ROUTES,
  type ApiRouteName,
  apiErrorStatus,
  apiRequest,
  cookieName,
  LOGIN_ROUTE,
  LOGOUT_ROUTE,
  localOrigins,
} from '../../src/api/contract.ts';
import { ApiSessions, SESSIONS_FILE } from '../../src/daemon/api-sessions.ts';
import { createLocalApi } from '../../src/daemon/local-api.ts';
import type { MeshNode } from '../../src/runtime/mesh-node.ts';
import { befriend, MemoryMesh, nextEvent } from '../helpers/memory-mesh.ts';

const TOKEN = 'unit-test-token-0123456789';
const auth = { authorization: `Bearer ${TOKEN}`, host: '127.0.0.1' };

describe('apiRequest: how both clients put a call on the wire', () => {
  const table: { desc: string; got: ReturnType<typeof apiRequest>; expected: ReturnType<typeof apiRequest> }[] = [
    { desc: 'GET without input', got: apiRequest('status'), expected: { method: 'GET', url: '/api/status' } },
    {
      desc: 'GET input becomes an encoded query',
      got: apiRequest('messages', { with: 'a b&c' }),
      expected: { method: 'GET', url: '/api/messages?with=a%20b%26c' },
    },
    {
      desc: 'undefined query fields are left out',
      got: apiRequest('inbox', { since: undefined, limit: 5 }),
      expected: { method: 'GET', url: '/api/inbox?limit=5' },
    },
    {
      desc: 'POST input becomes a JSON body',
      got: apiRequest('send', { to: 'x', text: 'hi' }),
      expected: { method: 'POST', url: '/api/send', body: '{"to":"x","text":"hi"}' },
    },
  ];
  for (const { desc, got, expected } of table) it(desc, () => assert.deepEqual(got, expected));

  it('cookie names differ per API port', () => {
    assert.notEqual(cookieName(7576), cookieName(7577));
  });
});

describe('local API serves the contract', () => {
  const mesh = new MemoryMesh();
  let me: MeshNode;
  let friend: MeshNode;
  let app: FastifyInstance;
  let base: string;

  before(async () => {
    [me, friend] = await Promise.all([mesh.node('Me'), mesh.node('Friend')]);
    app = await createLocalApi({ node: me, token: TOKEN });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await app?.close();
    await mesh.stop();
  });

  it('registers exactly the contract routes (no more, no fewer) besides the static page', () => {
    const served = new Set<string>();
    // printRoutes draws a tree ("├── api/inbox (GET)" then "│   └── /clear (POST)"): a route's path is
    // its segment appended to those of the lines above it at lower depths.
    const stack: string[] = [];
    for (const line of app.printRoutes({ commonPrefix: false }).split('\n')) {
      const m = /^([│ ]*)[├└]── (\S+)(?: \(([^)]+)\))?/.exec(line);
      if (!m) continue;
      const depth = m[1].length / 4;
      stack.length = depth;
      stack.push(m[2]);
      const path = stack.join('').replace(/\/+/g, '/');
      for (const method of (m[3] ?? '').split(', ')) if (method && method !== 'HEAD') served.add(`${method} ${path}`);
    }
    const contract = new Set(
      [...Object.values(API_ROUTES), API_EVENTS_ROUTE, LOGIN_ROUTE, LOGOUT_ROUTE].map((r) => `${r.method} ${r.path}`),
    );
    const page = [...served].filter((r) => !contract.has(r));
    assert.deepEqual(
      [...contract].filter((r) => !served.has(r)),
      [],
      'contract routes the daemon does not serve',
    );
    // The only other route is the built page's wildcard (or its "not built" placeholder at /).
    assert.ok(page.length === 1 && /^GET \/?\*?$/.test(page[0]), `routes outside the contract: ${page.join(', ')}`);
  });

  it('every contract route answers: 200 when its input is optional, INVALID_ARGUMENT when required input is missing', async () => {
    // The routes whose ApiSpec input has required fields.
    const required = new Set<ApiRouteName>([
      'messages',
      'add',
      'accept',
      'reject',
      'send',
      'bootstrap',
      'removeContact',
    ]);
    for (const name of Object.keys(API_ROUTES) as ApiRouteName[]) {
      const { method, path } = API_ROUTES[name];
      const res = await app.inject({ method, url: path, headers: auth, ...(method === 'POST' ? { payload: {} } : {}) });
      const body = res.json() as { error?: string };
      if (required.has(name)) {
        // Missing required input: the contract's INVALID_ARGUMENT, not the unknown-route NOT_FOUND.
        assert.equal(body.error, 'INVALID_ARGUMENT', `${method} ${path}`);
        assert.equal(res.statusCode, API_ERRORS.INVALID_ARGUMENT);
      } else assert.equal(res.statusCode, 200, `${method} ${path}: ${res.body}`);
    }
  });

  it('errors carry a contract code with its status', async () => {
    const cases: { desc: string; req: InjectOptions; code: string }[] = [
      {
        desc: 'no token',
        req: { method: 'GET', url: '/api/status', headers: { host: '127.0.0.1' } },
        code: 'UNAUTHORIZED',
      },
      {
        desc: 'a session cookie on a POST without Origin',
        req: { method: 'POST', url: '/api/invite', headers: { host: '127.0.0.1', cookie: 'x' }, payload: {} },
        code: 'UNAUTHORIZED',
      },
      {
        desc: 'not a local Host (DNS rebinding)',
        req: { method: 'GET', url: '/api/status', headers: { ...auth, host: 'evil.example' } },
        code: 'FORBIDDEN',
      },
      { desc: 'unknown route', req: { method: 'GET', url: '/api/nothing', headers: auth }, code: 'NOT_FOUND' },
      {
        desc: 'unknown contact',
        req: { method: 'GET', url: apiRequest('messages', { with: 'nobody-at-all' }).url, headers: auth },
        code: 'CONTACT_UNKNOWN',
      },
      {
        desc: 'no such request',
        req: { method: 'POST', url: '/api/accept', headers: auth, payload: { uuid: friend.uuid } },
        code: 'REQUEST_UNKNOWN',
      },
      {
        desc: 'bad invite',
        req: { method: 'POST', url: '/api/add', headers: auth, payload: { code: 'hello' } },
        code: 'BAD_INVITE',
      },
      {
        desc: 'remove an unknown contact',
        req: { method: 'POST', url: '/api/contacts/remove', headers: auth, payload: { uuid: 'nobody-at-all' } },
        code: 'CONTACT_UNKNOWN',
      },
      {
        desc: 'clear the inbox before a time that is not one',
        req: { method: 'POST', url: '/api/inbox/clear', headers: auth, payload: { before: 'yesterday' } },
        code: 'INVALID_ARGUMENT',
      },
      {
        desc: 'clear the inbox before an object',
        req: { method: 'POST', url: '/api/inbox/clear', headers: auth, payload: { before: { $gt: 0 } } },
        code: 'INVALID_ARGUMENT',
      },
    ];
    for (const { desc, req, code } of cases) {
      const res = await app.inject(req);
      const body = res.json() as { error: string; message: string };
      assert.equal(body.error, code, desc);
      assert.ok(code in API_ERRORS, `${code} is listed in the contract`);
      assert.equal(res.statusCode, apiErrorStatus(code), desc);
      assert.ok(body.message.length > 0, desc);
    }
  });

  it('the login link sets a per-port session cookie (not the token), which then authenticates', async () => {
    const port = (app.server.address() as { port: number }).port;
    const login = await fetch(`${base}${LOGIN_ROUTE.path}?token=${TOKEN}`, { redirect: 'manual' });
    assert.equal(login.status, 302);
    assert.equal(login.headers.get('location'), '/');
    assert.equal(login.headers.get('cache-control'), 'no-store');
    const cookie = login.headers.get('set-cookie') ?? '';
    assert.ok(cookie.startsWith(`${cookieName(port)}=`), cookie);
    assert.match(cookie, /HttpOnly/);
    assert.match(cookie, /SameSite=Strict/);
    assert.match(cookie, /Max-Age=\d+/);
    const pair = cookie.split(';')[0];
    const session = pair.slice(pair.indexOf('=') + 1);
    assert.ok(!cookie.includes(TOKEN), 'the cookie does not carry the token');
    assert.ok(session.length >= 43, 'a 256-bit session id');
    const ok = await fetch(`${base}/api/status`, { headers: { cookie: pair } });
    assert.equal(ok.status, 200);
    const other = await fetch(`${base}/api/status`, { headers: { cookie: `${cookieName(port + 1)}=${session}` } });
    assert.equal(other.status, 401, 'another port’s cookie does not log in');
    const asBearer = await fetch(`${base}/api/status`, { headers: { authorization: `Bearer ${session}` } });
    assert.equal(asBearer.status, 401, 'a session id is not a bearer token');
    const tokenAsCookie = await fetch(`${base}/api/status`, { headers: { cookie: `${cookieName(port)}=${TOKEN}` } });
    assert.equal(tokenAsCookie.status, 401, 'the token is not a session id');
    const second = await fetch(`${base}${LOGIN_ROUTE.path}?token=${TOKEN}`, { redirect: 'manual' });
    assert.notEqual(second.headers.get('set-cookie')?.split(';')[0], pair, 'each login gets a new session');
  });

  it('a cookie-authenticated call needs our Origin to change anything; the bearer token does not', async () => {
    const port = (app.server.address() as { port: number }).port;
    const login = await fetch(`${base}${LOGIN_ROUTE.path}?token=${TOKEN}`, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const invites = () => me.store.listInvites().length;
    const before = invites();
    const call = (method: string, path: string, headers: Record<string, string>) =>
      fetch(base + path, {
        method,
        headers: { 'content-type': 'application/json', ...headers },
        body: method === 'POST' ? '{}' : undefined,
      });
    const table: { desc: string; method: string; headers: Record<string, string>; status: number; error?: string }[] = [
      { desc: 'POST, cookie, no Origin', method: 'POST', headers: { cookie }, status: 403, error: 'FORBIDDEN_ORIGIN' },
      {
        desc: 'POST, cookie, another local port',
        method: 'POST',
        headers: { cookie, origin: `http://127.0.0.1:${port + 1}` },
        status: 403,
        error: 'FORBIDDEN_ORIGIN',
      },
      {
        desc: 'POST, cookie, Origin null (sandboxed frame, data: URL)',
        method: 'POST',
        headers: { cookie, origin: 'null' },
        status: 403,
        error: 'FORBIDDEN_ORIGIN',
      },
      {
        desc: 'GET, cookie, another origin',
        method: 'GET',
        headers: { cookie, origin: 'http://localhost:8080' },
        status: 403,
        error: 'FORBIDDEN_ORIGIN',
      },
      { desc: 'GET, cookie, no Origin (the page)', method: 'GET', headers: { cookie }, status: 200 },
      ...localOrigins(port).map((origin) => ({
        desc: `POST, cookie, ${origin}`,
        method: 'POST',
        headers: { cookie, origin },
        status: 200,
      })),
      {
        desc: 'POST, bearer token, any Origin (the CLI sends none)',
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, origin: 'http://127.0.0.1:1' },
        status: 200,
      },
    ];
    let created = 0;
    for (const { desc, method, headers, status, error } of table) {
      const res = await call(method, method === 'POST' ? API_ROUTES.invite.path : API_ROUTES.status.path, headers);
      assert.equal(res.status, status, desc);
      const body = (await res.json()) as { error?: string };
      if (error) assert.equal(body.error, error, desc);
      if (method === 'POST' && status === 200) created++;
    }
    assert.equal(invites(), before + created, 'only the allowed calls made invites');
  });

  it('logout ends the session and clears the cookie', async () => {
    const port = (app.server.address() as { port: number }).port;
    const login = await fetch(`${base}${LOGIN_ROUTE.path}?token=${TOKEN}`, { redirect: 'manual' });
    const cookie = (login.headers.get('set-cookie') ?? '').split(';')[0];
    const out = await fetch(base + LOGOUT_ROUTE.path, {
      method: 'POST',
      headers: { cookie, origin: localOrigins(port)[0] },
    });
    assert.equal(out.status, 200);
    assert.match(out.headers.get('set-cookie') ?? '', /Max-Age=0/);
    assert.equal((await fetch(`${base}/api/status`, { headers: { cookie } })).status, 401);
  });

  it('the event stream sends only contract event names, with the contract payloads', async () => {
    const ctrl = new AbortController();
    const res = await fetch(base + API_EVENTS_ROUTE.path, { headers: auth, signal: ctrl.signal });
    assert.equal(res.headers.get('content-type'), 'text/event-stream');
    const seen: { event: string; data: Record<string, unknown> }[] = [];
    const reading = (async () => {
      const decoder = new TextDecoder();
      let buf = '';
      try {
        for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
          buf += decoder.decode(chunk, { stream: true });
          let i = buf.indexOf('\n\n');
          while (i >= 0) {
            const block = buf.slice(0, i);
            buf = buf.slice(i + 2);
            const event = /^event: (.*)$/m.exec(block)?.[1];
            const data = /^data: (.*)$/m.exec(block)?.[1];
            if (event && data) seen.push({ event, data: JSON.parse(data) });
            i = buf.indexOf('\n\n');
          }
        }
      } catch {
        // aborted
      }
    })();
    // A real contact flow and a message each way produce every kind of event the node emits here.
    await befriend(me, friend);
    const got = nextEvent(me, 'message');
    await friend.send(me.uuid, 'hello through the memory network');
    await got;
    const delivered = nextEvent<{ state: string }>(me, 'message:state', (s) => s.state === 'delivered');
    await me.send(friend.uuid, 'and back');
    await delivered;
    await new Promise((r) => setTimeout(r, 50));
    ctrl.abort();
    await reading;

    const names = new Set(seen.map((e) => e.event));
    for (const n of names) assert.ok((API_EVENT_NAMES as readonly string[]).includes(n), `${n} is not in the contract`);
    for (const n of ['status', 'contact:request', 'contact:added', 'message', 'message:state'])
      assert.ok(names.has(n), `saw ${n}`);
    const msg = seen.find((e) => e.event === 'message')!.data;
    assert.deepEqual(
      { from: msg.from, to: msg.to, text: msg.text, state: msg.state, direction: msg.direction },
      { from: friend.uuid, to: me.uuid, text: 'hello through the memory network', state: 'received', direction: 'in' },
    );
    const request = seen.find((e) => e.event === 'contact:request')!.data;
    assert.deepEqual(Object.keys(request).sort(), ['authPhrase', 'name', 'uuid']);
  });
});

describe('browser sessions expire and are bounded', () => {
  const mesh = new MemoryMesh();
  let app: FastifyInstance;
  let base: string;
  let clock = 1_000_000;

  before(async () => {
    const me = await mesh.node('Me');
    const sessions = new ApiSessions({ ttlMs: 60_000, max: 3 });
    app = await createLocalApi({ node: me, token: TOKEN, sessions, now: () => clock });
    await app.listen({ host: '127.0.0.1', port: 0 });
    base = `http://127.0.0.1:${(app.server.address() as { port: number }).port}`;
  });
  after(async () => {
    await app?.close();
    await mesh.stop();
  });

  const login = async () => {
    const res = await fetch(`${base}${LOGIN_ROUTE.path}?token=${TOKEN}`, { redirect: 'manual' });
    const cookie = res.headers.get('set-cookie') ?? '';
    assert.match(cookie, /Max-Age=60(;|$)/);
    return cookie.split(';')[0];
  };
  const status = async (cookie: string) => (await fetch(`${base}/api/status`, { headers: { cookie } })).status;

  it('a session stops working at its expiry', async () => {
    const s = await login();
    clock += 59_999;
    assert.equal(await status(s), 200);
    clock += 1;
    assert.equal(await status(s), 401);
  });

  it('the oldest session is evicted when the table is full; the others keep working', async () => {
    const [a, b, c] = [await login(), await login(), await login()];
    assert.deepEqual([await status(a), await status(b), await status(c)], [200, 200, 200]);
    const d = await login();
    assert.deepEqual([await status(a), await status(b), await status(c), await status(d)], [401, 200, 200, 200]);
  });
});

describe('the session table in the data dir', () => {
  const dir = mkdtempSync(join(tmpdir(), 'mesh-sessions-'));
  after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, SESSIONS_FILE);

  it('survives a restart, holds no session id, is 0600; a logout is remembered too', () => {
    const first = ApiSessions.inDataDir(dir);
    const a = first.create(1000).id;
    const b = first.create(1000).id;
    const text = readFileSync(file, 'utf8');
    assert.ok(!text.includes(a) && !text.includes(b), 'only hashes are stored');
    if (process.platform !== 'win32') assert.equal(statSync(file).mode & 0o777, 0o600);
    first.revoke(b);
    const again = ApiSessions.inDataDir(dir);
    assert.equal(again.valid(a, 2000), true);
    assert.equal(again.valid(b, 2000), false);
    assert.equal(again.valid(a, 1000 + again.ttlMs), false, 'expiry is kept');
  });

  it('a damaged file is an empty table', () => {
    for (const junk of ['{', '{"sessions":5}', '{"sessions":[[1,2],"x",null]}', '']) {
      writeFileSync(file, junk);
      assert.equal(ApiSessions.inDataDir(dir).size(0), 0, JSON.stringify(junk));
    }
  });

  it('loads at most `max` sessions, the newest', () => {
    const wide = ApiSessions.inDataDir(dir, { max: 5 });
    const ids = Array.from({ length: 5 }, (_, i) => wide.create(i).id);
    const narrow = ApiSessions.inDataDir(dir, { max: 2 });
    assert.deepEqual(
      ids.map((id) => narrow.valid(id, 10)),
      [false, false, false, true, true],
    );
  });
});
