/**
 * Raw transport benchmark: requests over the persistent channel vs POST between two HttpsTransports
 * on loopback (10 in flight, 512 B bodies, an echo handler, rate limit off), with the bare undici →
 * fastify baseline of bench/transport-baseline.ts in the same run. This measures the transport only,
 * not node.send (no crypto, no store).
 * Run: node --import tsx bench/channel.ts [durationMs] [--json]
 */
import { randomBytes } from 'node:crypto';
import { generateKeyPairs } from '../src/crypto/index.ts';
import type { ChannelTransport, RequestHandler } from '../src/ports.ts';
import { HttpsTransport } from '../src/transport/https/index.ts';
import { type BaselineResult, runBaseline } from './transport-baseline.ts';

const IN_FLIGHT = 10;
const BODY = Buffer.from(JSON.stringify({ pad: 'x'.repeat(512 - 10) }));
/** Headers of the size a Mesh request carries (7 Mesh-* headers). */
const HEADERS = {
  'Mesh-Version': '1',
  'Mesh-Type': 'message',
  'Mesh-From': '3619e750-a2dd-82ba-9788-07b2a00df56d',
  'Mesh-Id': 'AAAAAAAAAAAAAAAAAAAAAA',
  'Mesh-Ts': '1767225600000',
  'Mesh-Port': '7575',
  'Mesh-Secret': 'DLhRelTKBQMz5JDq6R25w4rEMxJjLQ9rlK0pc2Uy6Q0',
};

function percentile(sorted: number[], p: number): number {
  return sorted.length ? sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] : 0;
}

async function pair(): Promise<{ a: ChannelTransport; b: ChannelTransport; bAddress: string; bPub: Uint8Array }> {
  const ka = generateKeyPairs(randomBytes);
  const kb = generateKeyPairs(randomBytes);
  const echo: RequestHandler = async () => ({ status: 200, body: new TextEncoder().encode('{"ok":true}') });
  const a = new HttpsTransport({ host: '127.0.0.2', port: 0, ...ka, rateLimit: false });
  const b = new HttpsTransport({ host: '127.0.0.3', port: 0, ...kb, rateLimit: false });
  await a.listen(echo);
  const bAddress = await b.listen(echo);
  return { a, b, bAddress, bPub: kb.signPub };
}

async function run(channel: boolean, durationMs: number): Promise<BaselineResult> {
  const { a, b, bAddress, bPub } = await pair();
  if (channel) {
    a.keepChannel(bAddress, { signPub: bPub });
    const t0 = Date.now();
    while (!a.channelTo(bPub)) {
      if (Date.now() - t0 > 5000) throw new Error('channel did not open');
      await new Promise((r) => setTimeout(r, 5));
    }
  }
  const send = () =>
    a.request({ address: bAddress, headers: HEADERS, body: BODY, pin: { signPub: bPub }, timeoutMs: 5000 });
  // Warm-up: POST pools open their connections, JIT settles.
  await Promise.all(Array.from({ length: IN_FLIGHT * 20 }, send));
  const latencies: number[] = [];
  const end = performance.now() + durationMs;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      const res = await send();
      if (res.status !== 200) throw new Error(`status ${res.status}`);
      latencies.push(performance.now() - t0);
    }
  };
  const start = performance.now();
  await Promise.all(Array.from({ length: IN_FLIGHT }, worker));
  const elapsed = performance.now() - start;
  if (channel && !a.channelTo(bPub)) throw new Error('the channel closed during the run');
  await Promise.all([a.close(), b.close()]);
  latencies.sort((x, y) => x - y);
  return {
    msgsPerSec: Math.round((latencies.length / elapsed) * 1000),
    p50Ms: percentile(latencies, 50),
    p99Ms: percentile(latencies, 99),
  };
}

const args = process.argv.slice(2);
const durationMs = Number(args.find((x) => /^\d+$/.test(x)) ?? 3000);
const baseline = await runBaseline({ durationMs, connections: IN_FLIGHT });
const post = await run(false, durationMs);
const channel = await run(true, durationMs);
const ratio = {
  post: Number((post.msgsPerSec / baseline.msgsPerSec).toFixed(2)),
  channel: Number((channel.msgsPerSec / baseline.msgsPerSec).toFixed(2)),
};
if (args.includes('--json')) {
  console.log(JSON.stringify({ baseline, post, channel, ratio }));
} else {
  const fmt = (r: BaselineResult) => ({
    'msgs/s': r.msgsPerSec,
    'p50 ms': r.p50Ms.toFixed(3),
    'p99 ms': r.p99Ms.toFixed(3),
  });
  console.log(`raw transport, loopback, ${IN_FLIGHT} in flight, 512 B bodies, ${durationMs} ms per row`);
  console.table({
    'baseline (undici → fastify POST)': fmt(baseline),
    'HttpsTransport POST': fmt(post),
    'HttpsTransport channel': fmt(channel),
  });
  console.log(`channel / baseline = ${ratio.channel}×, POST / baseline = ${ratio.post}×`);
}
