/**
 * The physical limit on this machine: length-prefixed 512 B messages echoed over ONE TLS 1.3
 * connection on loopback, 10 in flight (no HTTP, no WebSocket, no Mesh). The channel's ratio to
 * this (`channelOfRaw`) says how much the channel's framing, crypto and store cost on top.
 */
import { generateKeyPairSync } from 'node:crypto';
import { connect, createServer } from 'node:tls';
import { createSelfSignedCert } from '../src/transport/https/certificate.ts';
import type { BaselineResult } from './transport-baseline.ts';

/** Splits a byte stream into 4-byte-length-prefixed messages. */
function framer(onMessage: (m: Buffer) => void): (chunk: Buffer) => void {
  let buf: Buffer = Buffer.alloc(0);
  return (chunk) => {
    buf = buf.length ? Buffer.concat([buf, chunk]) : chunk;
    while (buf.length >= 4) {
      const n = buf.readUInt32BE(0);
      if (buf.length < 4 + n) break;
      onMessage(buf.subarray(4, 4 + n));
      buf = buf.subarray(4 + n);
    }
  };
}

/** Starts the raw TLS echo server on 127.0.0.1 (an ephemeral port). */
export async function startEchoServer(): Promise<{ port: number; stop: () => Promise<void> }> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const { certPem, keyPem } = await createSelfSignedCert(
    privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(16),
    publicKey.export({ format: 'der', type: 'spki' }).subarray(12),
  );
  const server = createServer({ key: keyPem, cert: certPem, minVersion: 'TLSv1.3' }, (s) => {
    s.setNoDelay(true);
    s.on(
      'data',
      framer((m) => {
        const out = Buffer.allocUnsafe(4 + m.length);
        out.writeUInt32BE(m.length, 0);
        m.copy(out, 4);
        s.write(out);
      }),
    );
    s.on('error', () => {});
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as { port: number };
  return { port, stop: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Runs the raw TLS echo for `durationMs` with `inFlight` messages outstanding; `split` = server in a worker thread. */
export async function runRawTls({ durationMs = 3000, inFlight = 10, split = false } = {}): Promise<BaselineResult> {
  const server = split
    ? await (await import('./transport-peer.ts')).startPeer({ kind: 'raw' })
    : await startEchoServer();
  const { port } = server;
  const sock = connect({ host: '127.0.0.1', port, rejectUnauthorized: false, minVersion: 'TLSv1.3' });
  await new Promise<void>((r) => sock.once('secureConnect', () => r()));
  sock.setNoDelay(true);
  const msg = Buffer.alloc(4 + 512, 120);
  msg.writeUInt32BE(512, 0);
  const latencies: number[] = [];
  const sentAt: number[] = [];
  let end = 0;
  let done: () => void = () => {};
  let outstanding = 0;
  const send = () => {
    outstanding++;
    sentAt.push(performance.now());
    sock.write(msg);
  };
  sock.on(
    'data',
    framer(() => {
      outstanding--;
      latencies.push(performance.now() - (sentAt.shift() as number));
      if (performance.now() < end) send();
      else if (outstanding === 0) done();
    }),
  );
  const start = performance.now();
  end = start + durationMs;
  await new Promise<void>((r) => {
    done = r;
    for (let i = 0; i < inFlight; i++) send();
  });
  const elapsed = performance.now() - start;
  sock.destroy();
  await server.stop();
  latencies.sort((a, b) => a - b);
  const q = (p: number) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))] ?? 0;
  return { msgsPerSec: Math.round((latencies.length / elapsed) * 1000), p50Ms: q(0.5), p99Ms: q(0.99) };
}
