/** src/transport/lazy-schema-compilers.ts: fastify without its schema compilers until a route needs them. */
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { test } from 'node:test';
import Fastify from 'fastify';
import { lazySchemaCompilers } from '../../src/transport/lazy-schema-compilers.ts';

// This file runs in its own process (node --test), so nothing else has loaded ajv before.
const fromFastify = createRequire(import.meta.resolve('fastify'));
const ajvLoaded = () => fromFastify.resolve('@fastify/ajv-compiler') in fromFastify.cache;

test('no compiler is loaded for an app without schemas; a schema route still validates and serializes', async () => {
  const plain = Fastify({ schemaController: lazySchemaCompilers() });
  plain.get('/', async () => ({ ok: true }));
  await plain.ready();
  assert.equal(ajvLoaded(), false);
  await plain.close();

  const app = Fastify({ schemaController: lazySchemaCompilers() });
  app.post(
    '/echo',
    {
      schema: {
        body: { type: 'object', required: ['n'], properties: { n: { type: 'integer' } } },
        response: { 200: { type: 'object', properties: { n: { type: 'integer' } } } },
      },
    },
    async (req) => ({ n: (req.body as { n: number }).n, dropped: 'by the response schema' }),
  );
  await app.ready();
  assert.equal(ajvLoaded(), true);
  const bad = await app.inject({ method: 'POST', url: '/echo', payload: { n: 'x' } });
  assert.equal(bad.statusCode, 400);
  const good = await app.inject({ method: 'POST', url: '/echo', payload: { n: 7 } });
  assert.equal(good.statusCode, 200);
  assert.deepEqual(good.json(), { n: 7 });
  await app.close();
});
