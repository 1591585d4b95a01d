/**
 * The transport half of the direct upgrade (docs/PROTOCOL.md §17): a channel over a TCP socket that
 * is already connected, one end as TLS client (dialer), the other handing the socket to its HTTPS
 * server. Real HTTPS transports on loopback; the simultaneous open itself needs NAT routers and is
 * proven in the lab (test/lab/lab-punch.test.ts).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { createServer, type Socket, connect as tcpConnect } from 'node:net';
import { afterEach, describe, it } from 'node:test';
import { generateKeyPairs, type KeyPairs } from '../../src/crypto/index.ts';
import { type InboundRequest, TransportError } from '../../src/ports.ts';
import { PUNCH_TIMEOUT_MS } from '../../src/protocol/constants.ts';
import { channelOverSocket, HttpsTransport, simultaneousOpen } from '../../src/transport/https/index.ts';

const enc = new TextEncoder();
const open: HttpsTransport[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.close()));
});

async function node(host: string, keys: KeyPairs, seen: InboundRequest[] = []): Promise<HttpsTransport> {
  const t = new HttpsTransport({ host, port: 0, ...keys });
  open.push(t);
  await t.listen(async (req) => {
    seen.push(req);
    return { status: 200, body: enc.encode(`{"from":"${host}"}`) };
  });
  return t;
}

/** The port a transport listens on. */
const portOf = (t: HttpsTransport) => (t.server?.address() as { port: number } | null)?.port;

/** A connected TCP socket pair on loopback (stands in for the punched connection). */
async function socketPair(): Promise<[Socket, Socket]> {
  const srv = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.71', r));
  const port = (srv.address() as { port: number }).port;
  const accepted = new Promise<Socket>((r) => srv.once('connection', r));
  const c = tcpConnect({ host: '127.0.0.71', port });
  const [a, b] = await Promise.all([new Promise<Socket>((r) => c.once('connect', () => r(c))), accepted]);
  srv.close();
  return [a, b];
}

describe('channel over an already connected socket', () => {
  it('opens one authenticated channel; requests go over it both ways', async () => {
    const ka = generateKeyPairs(randomBytes);
    const kb = generateKeyPairs(randomBytes);
    const seenA: InboundRequest[] = [];
    const seenB: InboundRequest[] = [];
    const a = await node('127.0.0.72', ka, seenA);
    const b = await node('127.0.0.73', kb, seenB);
    const [sa, sb] = await socketPair();
    const [pa, pb] = await Promise.all([
      channelOverSocket(a.punchParts(), sa, 'client', kb.signPub, Date.now() + PUNCH_TIMEOUT_MS),
      channelOverSocket(b.punchParts(), sb, 'server', ka.signPub, Date.now() + PUNCH_TIMEOUT_MS),
    ]);
    assert.ok(Buffer.from(pa.signPub).equals(kb.signPub), 'A has B on the channel');
    assert.ok(Buffer.from(pb.signPub).equals(ka.signPub), 'B has A on the channel');
    assert.ok(a.channelTo(kb.signPub) && b.channelTo(ka.signPub));
    // An address nobody listens on: only the punched channel can carry these.
    const headers = { 'mesh-version': '1', 'mesh-type': 'message' };
    const ra = await a.request({
      address: '127.0.0.99:9',
      headers,
      body: new Uint8Array(1),
      pin: { signPub: kb.signPub },
      timeoutMs: 5000,
    });
    const rb = await b.request({
      address: '127.0.0.99:9',
      headers,
      body: new Uint8Array(1),
      pin: { signPub: ka.signPub },
      timeoutMs: 5000,
    });
    assert.equal(ra.status, 200);
    assert.equal(rb.status, 200);
    assert.equal(seenB.length, 1);
    assert.equal(seenA.length, 1);
    assert.equal(seenB[0].channel?.uuid, pb.uuid, 'B saw the request on the channel from A');
    assert.equal(seenA[0].channel?.uuid, pa.uuid);
  });

  it('the client refuses a server that does not hold the pinned key (TLS_PIN), no channel opens', async () => {
    const ka = generateKeyPairs(randomBytes);
    const kb = generateKeyPairs(randomBytes);
    const mallory = generateKeyPairs(randomBytes);
    const a = await node('127.0.0.72', ka);
    const m = await node('127.0.0.74', mallory);
    const [sa, sm] = await socketPair();
    const server = channelOverSocket(m.punchParts(), sm, 'server', ka.signPub, Date.now() + 2000);
    await assert.rejects(
      channelOverSocket(a.punchParts(), sa, 'client', kb.signPub, Date.now() + PUNCH_TIMEOUT_MS),
      (e: unknown) => {
        return e instanceof TransportError && e.code === 'TLS_PIN';
      },
    );
    await assert.rejects(server, TransportError);
    assert.equal(a.channelTo(kb.signPub), null);
    assert.equal(m.channelTo(ka.signPub), null);
  });

  it('the server end waits for the expected key only: another client gets no punched channel', async () => {
    const ka = generateKeyPairs(randomBytes);
    const kb = generateKeyPairs(randomBytes);
    const kc = generateKeyPairs(randomBytes);
    const b = await node('127.0.0.73', kb);
    const c = await node('127.0.0.75', kc);
    const [sc, sb] = await socketPair();
    // B expects A on this socket, C connects: C's HELLO is valid, but it is not the punch B agreed to.
    const server = channelOverSocket(b.punchParts(), sb, 'server', ka.signPub, Date.now() + 1500);
    await channelOverSocket(c.punchParts(), sc, 'client', kb.signPub, Date.now() + 1500);
    await assert.rejects(server, (e: unknown) => e instanceof TransportError && e.code === 'TIMEOUT');
  });
});

describe('simultaneousOpen', () => {
  it('retries after refusals and connects once the other end is there', async () => {
    const srv = createServer((s) => s.end());
    const t0 = Date.now();
    setTimeout(() => srv.listen(47611, '127.0.0.76'), 300);
    const { socket, attempts } = await simultaneousOpen({
      host: '127.0.0.76',
      port: 47611,
      localPort: 47612,
      localAddress: '127.0.0.77',
      deadline: t0 + 5000,
      retryMs: 50,
    });
    const from = socket.localPort;
    socket.destroy();
    srv.close();
    assert.ok(attempts > 1, `refused at first, then connected (${attempts} attempts)`);
    assert.equal(from, 47612, 'from the punch port');
  });

  it('gives up at the deadline with TIMEOUT', async () => {
    await assert.rejects(
      simultaneousOpen({
        host: '127.0.0.76',
        port: 47613,
        localPort: 47614,
        deadline: Date.now() + 300,
        retryMs: 50,
      }),
      (e: unknown) => e instanceof TransportError && e.code === 'TIMEOUT',
    );
  });
});

describe('channels dialled from the punch port (PROTOCOL.md §17.1)', () => {
  it('the contact sees the channel come from the punch port; a busy punch port falls back to an ephemeral one', async () => {
    const ka = generateKeyPairs(randomBytes);
    const kb = generateKeyPairs(randomBytes);
    const kc = generateKeyPairs(randomBytes);
    const a = new HttpsTransport({ host: '127.0.0.78', port: 0, ...ka, punchPort: 47620 });
    open.push(a);
    await a.listen(async () => ({ status: 200, body: enc.encode('{}') }));
    const b = await node('127.0.0.79', kb);
    const c = await node('127.0.0.80', kc);
    const remotes: string[] = [];
    b.onChannel((e) => e.type === 'channel:open' && remotes.push(e.remote));
    a.keepChannel(`127.0.0.79:${portOf(b)}`, { signPub: kb.signPub });
    // Another socket listens on A's punch port: Linux refuses to dial from it (EADDRINUSE).
    const squatter = createServer();
    await new Promise<void>((r) => squatter.listen(47621, '127.0.0.78', r));
    const a2 = new HttpsTransport({ host: '127.0.0.78', port: 0, ...generateKeyPairs(randomBytes), punchPort: 47621 });
    open.push(a2);
    await a2.listen(async () => ({ status: 200, body: enc.encode('{}') }));
    a2.keepChannel(`127.0.0.80:${portOf(c)}`, { signPub: kc.signPub });
    const end = Date.now() + 5000;
    while ((a.channelTo(kb.signPub) === null || a2.channelTo(kc.signPub) === null) && Date.now() < end)
      await new Promise((r) => setTimeout(r, 10));
    squatter.close();
    assert.ok(a.channelTo(kb.signPub), 'channel A → B open');
    assert.ok(a2.channelTo(kc.signPub), 'channel A2 → C open from an ephemeral port');
    assert.deepEqual(remotes, ['127.0.0.78:47620']);
  });
});
