/** The daemon's static file route for the built web page (src/daemon/web-files.ts), through fastify.inject. */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import Fastify, { type FastifyInstance } from 'fastify';
import { serveWebFiles } from '../../src/daemon/web-files.ts';

describe('serveWebFiles', () => {
  const parent = mkdtempSync(join(tmpdir(), 'mesh-web-files-'));
  const root = join(parent, 'page');
  let app: FastifyInstance;

  before(async () => {
    mkdirSync(join(root, 'assets'), { recursive: true });
    writeFileSync(join(root, 'index.html'), '<!doctype html><title>page</title>');
    writeFileSync(join(root, 'assets', 'app-1a2b.js'), 'console.log(1)');
    writeFileSync(join(parent, 'secret.txt'), 'outside the page');
    app = Fastify();
    app.get('/login', async () => 'login route');
    app.setNotFoundHandler((req, reply) =>
      reply.code(404).send(req.url.startsWith('/api/') ? { error: 'NOT_FOUND' } : 'Not found'),
    );
    serveWebFiles(app, root);
    await app.ready();
  });
  after(async () => {
    await app.close();
    rmSync(parent, { recursive: true, force: true });
  });

  const cases = [
    { desc: '/ is index.html', url: '/', status: 200, type: 'text/html; charset=utf-8', body: /<title>page/ },
    {
      desc: 'an asset by path',
      url: '/assets/app-1a2b.js?v=1',
      status: 200,
      type: 'text/javascript; charset=utf-8',
      body: /console/,
    },
    { desc: 'another route wins over the files', url: '/login', status: 200, body: /login route/ },
    { desc: 'a missing file', url: '/assets/nope.js', status: 404, body: /Not found/ },
    { desc: 'an unknown API route keeps the API 404', url: '/api/nope', status: 404, body: /NOT_FOUND/ },
    { desc: 'a directory is not a file', url: '/assets', status: 404, body: /Not found/ },
    { desc: '.. cannot leave the page folder', url: '/%2e%2e/secret.txt', status: 404, body: /Not found/ },
    {
      desc: 'a malformed escape is refused (by fastify, before the route)',
      url: '/%E0%A4%A',
      status: 400,
      body: /Bad Request/,
    },
  ];
  for (const c of cases)
    test(c.desc, async () => {
      const res = await app.inject({ method: 'GET', url: c.url });
      assert.equal(res.statusCode, c.status);
      assert.match(res.body, c.body);
      if (c.type) assert.equal(res.headers['content-type'], c.type);
    });

  test('HEAD answers like GET without a body', async () => {
    const res = await app.inject({ method: 'HEAD', url: '/' });
    assert.equal(res.statusCode, 200);
    assert.equal(res.body, '');
  });
});
