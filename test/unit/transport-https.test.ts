/** HTTPS-only transport tests: TLS 1.3, identity certificate, keep-alive, localAddress, 404, domain pins. */
import assert from 'node:assert/strict';
import { Readable } from 'node:stream';
import { after, before, describe, it } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { Agent, request as undiciRequest } from 'undici';
import type { RequestHandler } from '../../src/ports.ts';
import { TransportError } from '../../src/ports.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { createTestCa, testIdentity as identity, issueCert, type TestCa } from '../../src/transport/https/test-ca.ts';

const enc = new TextEncoder();
const dec = new TextDecoder();
const echo: RequestHandler = async (req) => ({ status: 200, body: req.body });

describe('HttpsTransport', () => {
  const open: HttpsTransport[] = [];
  const insecure = new Agent({ connect: { rejectUnauthorized: false } });
  after(async () => {
    await Promise.all(open.map((t) => t.close()));
    await insecure.close();
  });

  function make(init: Partial<ConstructorParameters<typeof HttpsTransport>[0]> = {}) {
    const id = identity();
    const t = new HttpsTransport({ host: '127.0.0.1', port: 0, ...id, ...init });
    open.push(t);
    return { t, ...id };
  }

  it('listens on the real port and reports ip:port', async () => {
    const { t } = make();
    const addr = await t.listen(echo);
    assert.match(addr, /^127\.0\.0\.1:\d+$/);
    assert.notEqual(addr, '127.0.0.1:0');
  });

  it('negotiates TLS 1.3 with a certificate holding the identity key', async () => {
    const { t, signPub } = make();
    const [host, port] = (await t.listen(echo)).split(':');
    const info = await new Promise<{ proto: string | null; key: Buffer }>((resolve, reject) => {
      const s = tlsConnect({ host, port: Number(port), rejectUnauthorized: false }, () => {
        const cert = s.getPeerX509Certificate();
        assert.ok(cert);
        const key = cert.publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
        resolve({ proto: s.getProtocol(), key });
        s.end();
      });
      s.on('error', reject);
    });
    assert.equal(info.proto, 'TLSv1.3');
    assert.deepEqual(info.key, Buffer.from(signPub));
  });

  it('refuses TLS 1.2 clients', async () => {
    const { t } = make();
    const [host, port] = (await t.listen(echo)).split(':');
    await assert.rejects(
      new Promise((resolve, reject) => {
        const s = tlsConnect({ host, port: Number(port), rejectUnauthorized: false, maxVersion: 'TLSv1.2' }, () => {
          s.end();
          resolve(undefined);
        });
        s.on('error', reject);
      }),
    );
  });

  it('reuses one keep-alive connection for sequential requests', async () => {
    const server = make();
    const client = make();
    const address = await server.t.listen(echo);
    let connections = 0;
    server.t.server?.on('secureConnection', () => connections++);
    for (let i = 0; i < 20; i++) {
      const res = await client.t.request({
        address,
        headers: {},
        body: enc.encode(`{"i":${i}}`),
        pin: { signPub: server.signPub },
        timeoutMs: 3000,
      });
      assert.equal(res.status, 200);
    }
    assert.equal(connections, 1);
  });

  it('binds outgoing connections to localAddress', async () => {
    let remote = '';
    const server = make();
    const address = await server.t.listen(async (req) => {
      remote = req.remote;
      return { status: 200, body: enc.encode('{}') };
    });
    const client = make({ host: '127.0.0.3' });
    await client.t.request({
      address,
      headers: {},
      body: enc.encode('{}'),
      pin: { signPub: server.signPub },
      timeoutMs: 3000,
    });
    assert.match(remote, /^127\.0\.0\.3:\d+$/);
    const explicit = make({ host: '0.0.0.0', localAddress: '127.0.0.4' });
    await explicit.t.request({
      address,
      headers: {},
      body: enc.encode('{}'),
      pin: { signPub: server.signPub },
      timeoutMs: 3000,
    });
    assert.match(remote, /^127\.0\.0\.4:\d+$/);
  });

  it('answers 404 NOT_FOUND JSON for other paths and methods', async () => {
    const { t } = make();
    const address = await t.listen(echo);
    for (const [method, path] of [
      ['GET', '/'],
      ['GET', '/mesh'],
      ['POST', '/other'],
    ] as const) {
      const res = await undiciRequest(`https://${address}${path}`, { method, dispatcher: insecure });
      assert.equal(res.statusCode, 404, `${method} ${path}`);
      assert.match(String(res.headers['content-type']), /application\/json/);
      assert.equal(((await res.body.json()) as { error: string }).error, 'NOT_FOUND');
    }
  });

  it('answers 413 TOO_LARGE for an oversize chunked body', async () => {
    const { t } = make({ maxBodyBytes: 1000 });
    const address = await t.listen(echo);
    async function* chunks() {
      for (let i = 0; i < 10; i++) yield Buffer.alloc(500, 0x61);
    }
    const res = await undiciRequest(`https://${address}/mesh`, {
      method: 'POST',
      body: Readable.from(chunks()),
      dispatcher: insecure,
    });
    assert.equal(res.statusCode, 413);
    assert.equal(((await res.body.json()) as { error: string }).error, 'TOO_LARGE');
  });

  it('passes any content type through as raw bytes', async () => {
    const { t } = make();
    const address = await t.listen(echo);
    for (const ct of ['application/json', 'text/plain', 'application/octet-stream', 'weird/type; x=1']) {
      const body = '{"not": valid json';
      const res = await undiciRequest(`https://${address}/mesh`, {
        method: 'POST',
        headers: { 'content-type': ct },
        body,
        dispatcher: insecure,
      });
      assert.equal(res.statusCode, 200, ct);
      assert.equal(res.headers['content-type'], 'application/json');
      assert.equal(await res.body.text(), body);
    }
  });

  it('sends retry-after with 429', async () => {
    const { t } = make({ rateLimit: { max: 1, windowMs: 30_000 } });
    const address = await t.listen(echo);
    await (
      await undiciRequest(`https://${address}/mesh`, { method: 'POST', body: '{}', dispatcher: insecure })
    ).body.text();
    const res = await undiciRequest(`https://${address}/mesh`, { method: 'POST', body: '{}', dispatcher: insecure });
    assert.equal(res.statusCode, 429);
    assert.ok(Number(res.headers['retry-after']) >= 1);
    assert.equal(((await res.body.json()) as { error: string }).error, 'RATE_LIMITED');
  });

  it('serves and calls over IPv6 as [addr]:port', async (ctx) => {
    const server = make({ host: '::1' });
    let address: string;
    try {
      address = await server.t.listen(echo);
    } catch {
      ctx.skip('no IPv6 loopback');
      return;
    }
    assert.match(address, /^\[::1\]:\d+$/);
    let remote = '';
    await server.t.close();
    const s2 = make({ host: '::1' });
    address = await s2.t.listen(async (req) => {
      remote = req.remote;
      return { status: 200, body: req.body };
    });
    const client = make({ host: '::1' });
    const res = await client.t.request({
      address,
      headers: {},
      body: enc.encode('{}'),
      pin: { signPub: s2.signPub },
      timeoutMs: 3000,
    });
    assert.equal(res.status, 200);
    assert.match(remote, /^\[::1\]:\d+$/);
  });

  it('keeps working when peer pools are evicted (maxPeerPools)', async () => {
    const s1 = make();
    const s2 = make();
    const a1 = await s1.t.listen(echo);
    const a2 = await s2.t.listen(echo);
    const { t } = make({ maxPeerPools: 1 });
    for (let i = 0; i < 3; i++) {
      for (const [address, signPub] of [
        [a1, s1.signPub],
        [a2, s2.signPub],
      ] as const) {
        const res = await t.request({
          address,
          headers: {},
          body: enc.encode('{}'),
          pin: { signPub },
          timeoutMs: 3000,
        });
        assert.equal(res.status, 200);
      }
    }
  });

  it('rejects requests after close with ABORTED', async () => {
    const { t } = make();
    await t.close();
    await assert.rejects(
      t.request({ address: '127.0.0.1:9', headers: {}, body: new Uint8Array(0), timeoutMs: 100 }),
      (e: unknown) => e instanceof TransportError && e.code === 'ABORTED',
    );
  });

  describe('domain pins (peer with a CA certificate)', () => {
    let ca: TestCa;
    let address = '';
    before(async () => {
      ca = await createTestCa();
      const { t } = make({ tls: await issueCert(ca, 'peer.test') });
      address = await t.listen(async () => ({ status: 200, body: enc.encode('{"domain":true}') }));
    });

    it('accepts a CA-valid certificate for the pinned domain', async () => {
      const { t } = make({ ca: [ca.certPem] });
      const res = await t.request({
        address,
        headers: {},
        body: enc.encode('{}'),
        pin: { domain: 'peer.test' },
        timeoutMs: 3000,
      });
      assert.equal(res.status, 200);
      assert.equal(dec.decode(res.body), '{"domain":true}');
    });

    it('fails with TLS_PIN when the CA is not trusted', async () => {
      const { t } = make();
      await assert.rejects(
        t.request({ address, headers: {}, body: enc.encode('{}'), pin: { domain: 'peer.test' }, timeoutMs: 3000 }),
        (e: unknown) => e instanceof TransportError && e.code === 'TLS_PIN',
      );
    });

    it('fails with TLS_PIN when the certificate is for another name', async () => {
      const { t } = make({ ca: [ca.certPem] });
      await assert.rejects(
        t.request({ address, headers: {}, body: enc.encode('{}'), pin: { domain: 'other.test' }, timeoutMs: 3000 }),
        (e: unknown) => e instanceof TransportError && e.code === 'TLS_PIN',
      );
    });

    it('fails with TLS_PIN when a key pin meets the CA certificate', async () => {
      const { t } = make({ ca: [ca.certPem] });
      await assert.rejects(
        t.request({
          address,
          headers: {},
          body: enc.encode('{}'),
          pin: { signPub: identity().signPub },
          timeoutMs: 3000,
        }),
        (e: unknown) => e instanceof TransportError && e.code === 'TLS_PIN',
      );
    });
  });
});
