/**
 * Attacks on the daemon's local API from the user's own browser (issue 12, finding 2), performed in a
 * real Chromium against the REAL local API of a real MeshNode on a memory network:
 *
 * - cookies are not port-scoped: a web app on ANOTHER port of 127.0.0.1 receives our login cookie —
 *   it must hold a session id that is useless as the API token;
 * - SameSite=Strict does not stop a page on another local port (same site, other origin): its
 *   fetch and form POSTs to /api/invite must be refused (FORBIDDEN_ORIGIN) and create nothing;
 * - a session cookie replayed by a non-browser client without Origin cannot change anything;
 * - the page itself keeps working (its POSTs carry our Origin, its GETs and event stream none).
 */
import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import { after, before, describe, it } from 'node:test';
import type { FastifyInstance } from 'fastify';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { API_ERRORS, API_ROUTES, cookieName, LOGIN_ROUTE, LOGOUT_ROUTE } from '../../src/api/contract.ts';
import { createLocalApi } from '../../src/daemon/local-api.ts';
import type { MeshNode } from '../../src/runtime/mesh-node.ts';
import { MemoryMesh } from '../helpers/memory-mesh.ts';
import { ensureWebBuilt } from '../helpers/web-build.ts';
import { CHROMIUM, hasChromium, launchChromium } from './browser.ts';

const TOKEN = 'attack-test-token-7f3a9c0d2b4e6f81';

/** A web app on another local port: serves the attacker's pages and records what browsers send it. */
function evilServer(apiUrl: string): { server: Server; seen: { url: string; headers: IncomingHttpHeaders }[] } {
  const seen: { url: string; headers: IncomingHttpHeaders }[] = [];
  const invite = `${apiUrl}${API_ROUTES.invite.path}`;
  const pages: Record<string, string> = {
    // A no-cors "simple" request: no preflight, the browser sends it with our cookie and Origin.
    '/fetch-simple': `<script>
      fetch(${JSON.stringify(invite)}, { method: 'POST', mode: 'no-cors', credentials: 'include',
        headers: { 'content-type': 'text/plain' }, body: '{}' })
        .then(() => { document.title = 'sent'; }, () => { document.title = 'failed'; });
    </script>`,
    // A JSON request needs a CORS preflight, which the API never grants.
    '/fetch-json': `<script>
      fetch(${JSON.stringify(invite)}, { method: 'POST', credentials: 'include',
        headers: { 'content-type': 'application/json' }, body: '{}' })
        .then(() => { document.title = 'sent'; }, () => { document.title = 'blocked'; });
    </script>`,
    // A classic CSRF form: a top-level POST navigation, which SameSite=Strict lets through on one site.
    '/form': `<form method="POST" enctype="text/plain" action=${JSON.stringify(invite)}>
      <input name='{"x":"' value='"}'></form><script>document.forms[0].submit();</script>`,
  };
  const server = createServer((req, res) => {
    seen.push({ url: req.url ?? '', headers: req.headers });
    const html = pages[req.url ?? ''];
    res.writeHead(html ? 200 : 404, { 'content-type': 'text/html' });
    res.end(html ?? 'nothing here');
  });
  return { server, seen };
}

describe('local API attacked from other local ports', { skip: !hasChromium && `${CHROMIUM} is missing` }, () => {
  const mesh = new MemoryMesh();
  let me: MeshNode;
  let api: FastifyInstance;
  let apiUrl: string;
  let apiPort: number;
  let evil: ReturnType<typeof evilServer>;
  let evilUrl: string;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  const invites = () => me.store.listInvites().length;

  before(async () => {
    await ensureWebBuilt();
    me = await mesh.node('Me');
    api = await createLocalApi({ node: me, token: TOKEN });
    await api.listen({ host: '127.0.0.1', port: 0 });
    apiPort = (api.server.address() as { port: number }).port;
    apiUrl = `http://127.0.0.1:${apiPort}`;
    evil = evilServer(apiUrl);
    await new Promise<void>((r) => evil.server.listen(0, '127.0.0.1', r));
    evilUrl = `http://127.0.0.1:${(evil.server.address() as { port: number }).port}`;
    browser = await launchChromium();
    context = await browser.newContext();
    context.setDefaultTimeout(10_000);
    page = await context.newPage();
    // The user logs in with the link `mesh start` printed.
    await page.goto(`${apiUrl}${LOGIN_ROUTE.path}?token=${TOKEN}`);
    assert.equal(new URL(page.url()).pathname, '/');
  });

  after(async () => {
    await browser?.close();
    await new Promise((r) => evil?.server.close(r));
    await api?.close();
    await mesh.stop();
  });

  it('a page on another port: fetch POST /api/invite with the cookie is refused, nothing is created', async () => {
    const before = invites();
    const attacker = await context.newPage();
    try {
      const refused = attacker.waitForResponse((r) => r.url().endsWith(API_ROUTES.invite.path));
      await attacker.goto(`${evilUrl}/fetch-simple`);
      const res = await refused;
      // 403, not 401: the browser did send a valid session cookie; the Origin is what is refused.
      assert.equal(res.status(), API_ERRORS.FORBIDDEN_ORIGIN);

      await attacker.goto(`${evilUrl}/fetch-json`);
      await attacker.waitForFunction(() => document.title !== '');
      assert.equal(await attacker.title(), 'blocked', 'the CORS preflight is not granted');
    } finally {
      await attacker.close();
    }
    assert.equal(invites(), before, 'no invite was created');
  });

  it('a page on another port: a form POST to /api/invite is refused, nothing is created', async () => {
    const before = invites();
    const attacker = await context.newPage();
    try {
      const refused = attacker.waitForResponse((r) => r.url().endsWith(API_ROUTES.invite.path));
      await attacker.goto(`${evilUrl}/form`);
      const res = await refused;
      assert.equal(res.status(), API_ERRORS.FORBIDDEN_ORIGIN);
      assert.equal(((await res.json()) as { error: string }).error, 'FORBIDDEN_ORIGIN');
    } finally {
      await attacker.close();
    }
    assert.equal(invites(), before, 'no invite was created');
  });

  it('the cookie a server on another port receives is not the token and cannot change anything', async () => {
    const leaked = evil.seen.map((r) => r.headers.cookie ?? '').find((c) => c.includes(cookieName(apiPort)));
    assert.ok(leaked, 'the browser sends our cookie to another port (cookies are not port-scoped)');
    const pair = leaked.split(/;\s*/).find((c) => c.startsWith(`${cookieName(apiPort)}=`))!;
    const session = pair.slice(pair.indexOf('=') + 1);
    assert.notEqual(session, TOKEN);
    for (const r of evil.seen) assert.ok(!JSON.stringify(r).includes(TOKEN), `the token reached ${r.url}`);

    const asBearer = await fetch(`${apiUrl}/api/status`, { headers: { authorization: `Bearer ${session}` } });
    assert.equal(asBearer.status, API_ERRORS.UNAUTHORIZED, 'a session id is not a bearer token');
    const before = invites();
    const replay = await fetch(`${apiUrl}${API_ROUTES.invite.path}`, {
      method: 'POST',
      headers: { cookie: pair, 'content-type': 'application/json' },
      body: '{}',
    });
    assert.equal(replay.status, API_ERRORS.FORBIDDEN_ORIGIN);
    assert.equal(((await replay.json()) as { error: string }).error, 'FORBIDDEN_ORIGIN');
    assert.equal(invites(), before, 'a replayed cookie without Origin created no invite');
  });

  it('the page itself still works: its POST, its GETs and its event stream; logout ends the session', async () => {
    const before = invites();
    const got = await page.evaluate(async (path) => {
      const res = await fetch(path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      return { status: res.status, body: await res.json() };
    }, API_ROUTES.invite.path);
    assert.equal(got.status, 200, JSON.stringify(got.body));
    assert.equal(invites(), before + 1);
    const streamed = await page.evaluate(
      () =>
        new Promise<string>((resolve, reject) => {
          const es = new EventSource('/api/events');
          es.addEventListener('status', (e) => {
            es.close();
            resolve(JSON.parse((e as MessageEvent).data).uuid);
          });
          es.onerror = () => reject(new Error('event stream failed'));
        }),
    );
    assert.equal(streamed, me.uuid);

    const cookie = (await context.cookies()).find((c) => c.name === cookieName(apiPort))!;
    const status = await page.evaluate(
      async (path) => (await fetch(path, { method: 'POST' })).status,
      LOGOUT_ROUTE.path,
    );
    assert.equal(status, 200);
    const dead = await fetch(`${apiUrl}/api/status`, { headers: { cookie: `${cookie.name}=${cookie.value}` } });
    assert.equal(dead.status, API_ERRORS.UNAUTHORIZED, 'a logged-out session no longer works');
  });
});
