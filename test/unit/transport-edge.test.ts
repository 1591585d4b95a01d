/** Shared transport edge: addresses, rate limiter, error JSON, handler guard. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { DEFAULT_PORT } from '../../src/protocol/constants.ts';
import { Edge, errorReply, formatRemote, lowerHeaders, RateLimiter } from '../../src/transport/edge.ts';
import { formatAddress, hostOf, parseAddress, tryParseAddress } from '../../src/util/address.ts';

const dec = new TextDecoder();

describe('transport edge', () => {
  it('parses and formats addresses', () => {
    assert.deepEqual(parseAddress('127.0.0.2:7575'), { host: '127.0.0.2', port: 7575 });
    assert.deepEqual(parseAddress('[::1]:8000'), { host: '::1', port: 8000 });
    assert.deepEqual(parseAddress('host.example:7575'), { host: 'host.example', port: 7575 });
    assert.deepEqual(parseAddress('host.example', DEFAULT_PORT), { host: 'host.example', port: 7575 });
    assert.deepEqual(parseAddress('fe80::1', DEFAULT_PORT), { host: 'fe80::1', port: 7575 });
    assert.throws(() => parseAddress('host.example'), 'no port and no default');
    assert.equal(tryParseAddress('1.2.3.4:x'), null);
    assert.throws(() => parseAddress('1.2.3.4:99999'));
    assert.throws(() => parseAddress('[::1'));
    assert.equal(formatAddress({ host: '::1', port: 1 }), '[::1]:1');
    assert.equal(formatAddress({ host: '10.0.0.1', port: 2 }), '10.0.0.1:2');
  });

  it('formats socket remotes, unmapping v4-mapped IPv6', () => {
    assert.equal(formatRemote('::ffff:192.0.2.7', 5000), '192.0.2.7:5000');
    assert.equal(formatRemote('2001:db8::1', 5000), '[2001:db8::1]:5000');
    assert.equal(formatRemote('127.0.0.1', 5000), '127.0.0.1:5000');
    assert.equal(hostOf('[2001:db8::1]:5000'), '2001:db8::1');
    assert.equal(hostOf('192.0.2.7:5000'), '192.0.2.7');
  });

  it('lower-cases headers and joins arrays', () => {
    assert.deepEqual(lowerHeaders({ 'Mesh-From': 'a', X: ['1', '2'], Y: undefined }), { 'mesh-from': 'a', x: '1, 2' });
  });

  it('builds wire error JSON with the mapped status', () => {
    const r = errorReply('TOO_LARGE', 'big');
    assert.equal(r.status, 413);
    assert.deepEqual(JSON.parse(dec.decode(r.body)), { error: 'TOO_LARGE', message: 'big' });
    assert.equal(r.headers['content-type'], 'application/json');
  });

  it('rate-limits per key in fixed windows and sweeps old keys', () => {
    let now = 0;
    const rl = new RateLimiter({ max: 2, windowMs: 1000 }, () => now);
    assert.ok(rl.hit('a').ok);
    assert.ok(rl.hit('a').ok);
    const d = rl.hit('a');
    assert.equal(d.ok, false);
    assert.equal(!d.ok && d.retryAfterSec, 1);
    assert.ok(rl.hit('b').ok);
    now = 1000;
    assert.ok(rl.hit('a').ok);
    assert.equal(rl.size, 1);
  });

  it('limits by IP, not by ip:port', () => {
    const edge = new Edge({ rateLimit: { max: 1, windowMs: 60_000 } });
    assert.equal(edge.admit('10.0.0.1:40000'), null);
    assert.equal(edge.admit('10.0.0.1:40001')?.status, 429);
    assert.equal(edge.admit('10.0.0.2:40000'), null);
  });

  it('limits an IPv6 /64 as one source, and a v4-mapped client as its IPv4 (issue 12 #10)', () => {
    const edge = new Edge({ rateLimit: { max: 2, windowMs: 60_000 } });
    assert.equal(edge.admit('[2001:db8:1:2::1]:40000'), null);
    assert.equal(edge.admit('[2001:db8:1:2:ffff::9]:40000'), null, 'another address in the same /64');
    assert.equal(edge.admit('[2001:db8:1:2:abcd::7]:1')?.status, 429, 'the /64 is over its limit');
    assert.equal(edge.admit('[2001:db8:1:3::1]:40000'), null, 'the next /64 is another source');
    assert.equal(edge.admit('[::ffff:10.9.9.9]:1'), null);
    assert.equal(edge.admit('10.9.9.9:2'), null);
    assert.equal(edge.admit('10.9.9.9:3')?.status, 429, 'v4-mapped and plain IPv4 are one source');
  });

  it('turns throws and invalid handler answers into 500 INTERNAL', async () => {
    const edge = new Edge({ rateLimit: false });
    const req = { remote: '1.2.3.4:5', headers: {}, body: new Uint8Array(0) };
    assert.equal((await edge.dispatch(async () => Promise.reject(new Error('x')), req)).status, 500);
    // biome-ignore lint/suspicious/noExplicitAny: deliberately invalid handler answer
    assert.equal((await edge.dispatch(async () => ({ status: 'x', body: 1 }) as any, req)).status, 500);
    assert.equal((await edge.dispatch(async () => ({ status: 204, body: new Uint8Array(0) }), req)).status, 204);
  });
});

describe('contact budgets at the edge (PROTOCOL.md §13.9)', () => {
  const friend = '11111111-1111-1111-1111-111111111111';
  const ok = async () => ({ status: 200, body: new Uint8Array(2) });
  const unauthorised = async () => ({ status: 401, body: new Uint8Array(2) });
  const req = (ip: string, from: string, secret = true) => ({
    remote: `${ip}:40000`,
    headers: { 'mesh-from': from, ...(secret ? { 'mesh-secret': 'x' } : {}) },
    body: new Uint8Array(10),
  });

  it("a contact's POSTs pass the per-IP limit; strangers and proof-less requests do not", async () => {
    const edge = new Edge({ rateLimit: { max: 3, windowMs: 60_000 } });
    edge.trustSenders((u) => u === friend);
    for (let i = 0; i < 20; i++) assert.equal((await edge.serve(ok, req('10.0.0.1', friend))).status, 200);
    const statuses = [];
    for (let i = 0; i < 5; i++) statuses.push((await edge.serve(ok, req('10.0.0.2', friend, false))).status);
    assert.deepEqual(statuses, [200, 200, 200, 429, 429]);
  });

  it('forging a contact’s uuid is charged to the IP: once over the limit, the claim no longer helps', async () => {
    const edge = new Edge({ rateLimit: { max: 3, windowMs: 60_000 } });
    edge.trustSenders((u) => u === friend);
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await edge.serve(unauthorised, req('10.0.0.3', friend))).status);
    // Three failed proofs are counted; after them the IP is over its limit and claims are ignored.
    assert.deepEqual(statuses, [401, 401, 401, 429, 429, 429]);
    // The real friend elsewhere is not affected.
    assert.equal((await edge.serve(ok, req('10.0.0.4', friend))).status, 200);
  });

  it('a contact over its budget waits (backpressure), it is never refused', async () => {
    const { Budget } = await import('../../src/transport/channel/budget.ts');
    let now = 0;
    const b = new Budget({ msgsPerSec: 10, msgsBurst: 2, bytesPerSec: 1000, bytesBurst: 1000 }, () => now);
    assert.equal(b.take(100), 0);
    assert.equal(b.take(100), 0);
    assert.equal(b.take(100), 100, 'the third message waits 100 ms for one token');
    now += 100;
    assert.equal(b.take(100), 0);
    assert.equal(b.take(5000), 200, 'bigger than the byte bucket: waits until the bucket is full (800 → 1000 B)');
    now += 1000;
    assert.equal(b.take(5000), 0);
  });
});
