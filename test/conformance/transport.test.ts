/**
 * Transport conformance: one suite, run against the HTTPS transport (real TLS on 127.0.0.1) and the
 * memory transport, so both behave identically at the edge.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:net';
import { after, describe, it } from 'node:test';
import type { InboundRequest, RequestHandler, Transport } from '../../src/ports.ts';
import { TransportError } from '../../src/ports.ts';
import type { RateLimitOptions } from '../../src/transport/edge.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { testIdentity } from '../../src/transport/https/test-ca.ts';
import { MemoryNetwork } from '../../src/transport/memory/index.ts';

const identity = testIdentity;

/** Node options the suite varies. */
interface NodeOpts {
  rateLimit?: RateLimitOptions | false;
  maxBodyBytes?: number;
}

/** A node built by a factory: its transport, identity key and the IP its outgoing calls come from. */
interface TestNode {
  transport: Transport;
  signPub: Uint8Array;
  ip: string;
}

/** What a transport implementation provides to the suite. */
export interface TransportFactory {
  node(opts?: NodeOpts): Promise<TestNode>;
  /** An address nobody listens on. */
  deadAddress(): Promise<string>;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const json = (o: unknown) => enc.encode(JSON.stringify(o));
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const echo: RequestHandler = async (req) => ({ status: 200, body: req.body });

async function rejectsWith(p: Promise<unknown>, code: TransportError['code']): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof TransportError, `expected TransportError, got ${String(err)}`);
    assert.equal(err.code, code, err.message);
    return true;
  });
}

/** Runs the transport conformance suite against one implementation. */
export function transportConformance(name: string, makeFactory: () => TransportFactory): void {
  describe(`transport conformance: ${name}`, () => {
    const f = makeFactory();
    after(() => f.close());

    async function pair(serverOpts: NodeOpts = {}, handler: RequestHandler = echo) {
      const server = await f.node({ rateLimit: false, ...serverOpts });
      const client = await f.node({ rateLimit: false });
      const address = await server.transport.listen(handler);
      const call = (body: Uint8Array, extra: { timeoutMs?: number; headers?: Record<string, string> } = {}) =>
        client.transport.request({
          address,
          headers: extra.headers ?? { 'Mesh-Version': '1' },
          body,
          pin: { signPub: server.signPub },
          timeoutMs: extra.timeoutMs ?? 5000,
        });
      return { server, client, address, call };
    }

    it('round-trips exact body bytes and lower-cased headers', async () => {
      let seen: InboundRequest | undefined;
      const reply = new Uint8Array(300).map((_, i) => (i * 7) % 256);
      const { call } = await pair({}, async (req) => {
        seen = req;
        return { status: 201, body: reply };
      });
      const body = new Uint8Array(1000).map((_, i) => (i * 13 + 5) % 256);
      const res = await call(body, {
        headers: { 'Mesh-Version': '1', 'Mesh-From': 'abc-DEF', 'content-type': 'application/json' },
      });
      assert.equal(res.status, 201);
      assert.deepEqual(Buffer.from(res.body), Buffer.from(reply));
      assert.ok(seen);
      assert.deepEqual(Buffer.from(seen.body), Buffer.from(body));
      assert.equal(seen.headers['mesh-version'], '1');
      assert.equal(seen.headers['mesh-from'], 'abc-DEF');
      for (const k of Object.keys(seen.headers)) assert.equal(k, k.toLowerCase());
    });

    it('gives the handler an empty body when none was sent', async () => {
      let got: Uint8Array | undefined;
      const { call } = await pair({}, async (req) => {
        got = req.body;
        return { status: 200, body: json({ ok: true }) };
      });
      const res = await call(new Uint8Array(0), { headers: {} });
      assert.equal(res.status, 200);
      assert.ok(got instanceof Uint8Array);
      assert.equal(got.byteLength, 0);
    });

    it('reports the caller IP in remote as ip:port', async () => {
      let remote = '';
      const { call, client } = await pair({}, async (req) => {
        remote = req.remote;
        return { status: 200, body: json({}) };
      });
      await call(json({ hi: 1 }));
      const m = /^(.*):(\d+)$/.exec(remote);
      assert.ok(m, remote);
      assert.equal(m[1], client.ip);
      assert.ok(Number(m[2]) > 0 && Number(m[2]) < 65536);
    });

    it('returns HTTP error statuses instead of throwing', async () => {
      const { call } = await pair({}, async () => ({ status: 409, body: json({ error: 'DUPLICATE', message: 'x' }) }));
      const res = await call(json({}));
      assert.equal(res.status, 409);
      assert.deepEqual(JSON.parse(dec.decode(res.body)), { error: 'DUPLICATE', message: 'x' });
    });

    it('answers 413 TOO_LARGE over the body limit and keeps serving', async () => {
      let calls = 0;
      const { call } = await pair({ maxBodyBytes: 1024 }, async (req) => {
        calls++;
        return { status: 200, body: req.body };
      });
      const atLimit = await call(new Uint8Array(1024).fill(0x61));
      assert.equal(atLimit.status, 200);
      const res = await call(new Uint8Array(1025).fill(0x61));
      assert.equal(res.status, 413);
      const err = JSON.parse(dec.decode(res.body));
      assert.equal(err.error, 'TOO_LARGE');
      assert.equal(typeof err.message, 'string');
      const big = await call(new Uint8Array(200_000).fill(0x62));
      assert.equal(big.status, 413);
      const next = await call(json({ again: true }));
      assert.equal(next.status, 200);
      assert.equal(calls, 2);
    });

    it('answers 500 INTERNAL when the handler throws and keeps serving', async () => {
      let n = 0;
      const { call } = await pair({}, async (req) => {
        if (n++ === 0) throw new Error('boom');
        return { status: 200, body: req.body };
      });
      const res = await call(json({ a: 1 }));
      assert.equal(res.status, 500);
      assert.equal(JSON.parse(dec.decode(res.body)).error, 'INTERNAL');
      assert.doesNotMatch(dec.decode(res.body), /boom/);
      const ok = await call(json({ a: 2 }));
      assert.equal(ok.status, 200);
      assert.deepEqual(JSON.parse(dec.decode(ok.body)), { a: 2 });
    });

    it('answers 429 RATE_LIMITED past the per-IP limit', async () => {
      let calls = 0;
      const { call } = await pair({ rateLimit: { max: 3, windowMs: 60_000 } }, async (req) => {
        calls++;
        return { status: 200, body: req.body };
      });
      for (let i = 0; i < 3; i++) assert.equal((await call(json({ i }))).status, 200);
      const res = await call(json({ i: 3 }));
      assert.equal(res.status, 429);
      assert.equal(JSON.parse(dec.decode(res.body)).error, 'RATE_LIMITED');
      assert.equal(calls, 3);
    });

    it('rejects with CONNECT_FAILED when nobody listens at the address', async () => {
      const client = await f.node();
      const address = await f.deadAddress();
      await rejectsWith(
        client.transport.request({ address, headers: {}, body: json({}), timeoutMs: 3000 }),
        'CONNECT_FAILED',
      );
    });

    it('rejects with CONNECT_FAILED once the target closed', async () => {
      const { server, call } = await pair();
      assert.equal((await call(json({}))).status, 200);
      await server.transport.close();
      await rejectsWith(call(json({})), 'CONNECT_FAILED');
    });

    it('rejects with TLS_PIN on a key mismatch and never delivers the request', async () => {
      let calls = 0;
      const { address, client } = await pair({}, async (req) => {
        calls++;
        return { status: 200, body: req.body };
      });
      const wrong = identity().signPub;
      await rejectsWith(
        client.transport.request({ address, headers: {}, body: json({}), pin: { signPub: wrong }, timeoutMs: 3000 }),
        'TLS_PIN',
      );
      assert.equal(calls, 0);
    });

    it('rejects with TIMEOUT when the handler is too slow', async () => {
      const { call } = await pair({}, async (req) => {
        await sleep(600);
        return { status: 200, body: req.body };
      });
      const t0 = Date.now();
      await rejectsWith(call(json({}), { timeoutMs: 150 }), 'TIMEOUT');
      assert.ok(Date.now() - t0 < 550, 'timed out late');
    });
  });
}

transportConformance('https', () => {
  const nodes: Transport[] = [];
  return {
    async node(opts = {}) {
      const id = identity();
      const t = new HttpsTransport({ host: '127.0.0.1', port: 0, ...id, ...opts });
      nodes.push(t);
      return { transport: t, signPub: id.signPub, ip: '127.0.0.1' };
    },
    async deadAddress() {
      const srv = createServer();
      await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
      const { port } = srv.address() as { port: number };
      await new Promise((r) => srv.close(r));
      return `127.0.0.1:${port}`;
    },
    async close() {
      await Promise.all(nodes.map((t) => t.close()));
    },
  };
});

transportConformance('memory', () => {
  const net = new MemoryNetwork({ latencyMs: 2, jitterMs: 2 });
  const nodes: Transport[] = [];
  let n = 0;
  return {
    async node(opts = {}) {
      const id = identity();
      const ip = `10.0.${Math.floor(++n / 250)}.${(n % 250) + 1}`;
      const t = net.transport(`${ip}:7575`, { signPub: id.signPub, ...opts });
      nodes.push(t);
      return { transport: t, signPub: id.signPub, ip };
    },
    async deadAddress() {
      return '10.99.99.99:7575';
    },
    async close() {
      await Promise.all(nodes.map((t) => t.close()));
    },
  };
});
