/**
 * Transport baseline: bare undici → fastify HTTPS keep-alive POST of a 512 B JSON body over
 * 10 connections (no Mesh logic), the ceiling the Mesh transport is compared against.
 * Run: node --import tsx bench/transport-baseline.ts [durationMs]
 */
import { generateKeyPairSync } from 'node:crypto';
import { pathToFileURL } from 'node:url';
import Fastify from 'fastify';
import { Pool } from 'undici';
import { createSelfSignedCert } from '../src/transport/https/certificate.ts';

/** Result of a baseline run. */
export interface BaselineResult {
  msgsPerSec: number;
  p50Ms: number;
  p99Ms: number;
}

/** Starts the baseline's fastify HTTPS server on 127.0.0.1 (an ephemeral port). */
export async function startBaselineServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { certPem, keyPem } = await createSelfSignedCert(
    privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16),
    publicKey.export({ format: 'der', type: 'spki' }).subarray(12),
  );
  const app = Fastify({ logger: false, https: { key: keyPem, cert: certPem, minVersion: 'TLSv1.3' } });
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
  app.post('/mesh', async (_req, reply) => reply.header('content-type', 'application/json').send('{"ok":true}'));
  await app.listen({ host: '127.0.0.1', port: 0 });
  const { port } = app.server.address() as { port: number };
  return { port, stop: () => app.close() };
}

/**
 * Runs the baseline for `durationMs` (default 3000) with `connections` (default 10) keep-alive
 * sockets; with `split`, the server runs in a worker thread (its own event loop, like a real peer).
 */
export async function runBaseline({
  durationMs = 3000,
  connections = 10,
  split = false,
}: {
  durationMs?: number;
  connections?: number;
  split?: boolean;
} = {}): Promise<BaselineResult> {
  const server = split
    ? await (await import('./transport-peer.ts')).startPeer({ kind: 'baseline' })
    : await startBaselineServer();
  const { port } = server;
  const pool = new Pool(`https://127.0.0.1:${port}`, { connections, connect: { rejectUnauthorized: false } });
  const body = Buffer.from(JSON.stringify({ pad: 'x'.repeat(512 - 10) }));
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await pool.request({
        path: '/mesh',
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
      });
      await res.body.arrayBuffer();
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: connections }, worker));
  const elapsed = performance.now() - start;
  await pool.destroy();
  await server.stop();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { msgsPerSec: Math.round((latencies.length / elapsed) * 1000), p50Ms: q(0.5), p99Ms: q(0.99) };
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const r = await runBaseline({ durationMs: Number(process.argv[2] ?? 3000) });
  console.log(`transport baseline: ${r.msgsPerSec} msgs/s, p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms.toFixed(2)} ms`);
}
