/** Memory-only transport behaviour: offline, move, latency, drops, domain pins, close. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { TransportError } from '../../src/ports.ts';
import { MemoryNetwork } from '../../src/transport/memory/index.ts';

const enc = new TextEncoder();
const body = enc.encode('{}');
const isCode = (code: string) => (e: unknown) => e instanceof TransportError && e.code === code;

describe('MemoryTransport', () => {
  it('fails CONNECT_FAILED while the target is offline and works again online', async () => {
    const net = new MemoryNetwork();
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    await b.listen(async (r) => ({ status: 200, body: r.body }));
    net.setOnline('10.0.0.2:7575', false);
    await assert.rejects(
      a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 500 }),
      isCode('CONNECT_FAILED'),
    );
    net.setOnline('10.0.0.2:7575', true);
    assert.equal((await a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 500 })).status, 200);
    await Promise.all([a.close(), b.close()]);
  });

  it('moves a node to a new IP: old address unreachable, its calls come from the new IP', async () => {
    const net = new MemoryNetwork();
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    let remote = '';
    await a.listen(async (r) => {
      remote = r.remote;
      return { status: 200, body: r.body };
    });
    await b.listen(async (r) => ({ status: 200, body: r.body }));
    net.move('10.0.0.2:7575', '192.0.2.9:7575');
    await assert.rejects(
      a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 500 }),
      isCode('CONNECT_FAILED'),
    );
    assert.equal((await a.request({ address: '192.0.2.9:7575', headers: {}, body, timeoutMs: 500 })).status, 200);
    await b.request({ address: '10.0.0.1:7575', headers: {}, body, timeoutMs: 500 });
    assert.match(remote, /^192\.0\.2\.9:\d+$/);
    assert.notEqual(remote, '192.0.2.9:7575');
  });

  it('applies latency both ways with real timers', async () => {
    const net = new MemoryNetwork({ latencyMs: 30 });
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    await b.listen(async (r) => ({ status: 200, body: r.body }));
    const t0 = Date.now();
    await a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 1000 });
    assert.ok(Date.now() - t0 >= 55);
    await assert.rejects(a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 40 }), isCode('TIMEOUT'));
  });

  it('drops requests at dropRate 1: the caller times out', async () => {
    const net = new MemoryNetwork({ dropRate: 1 });
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    let calls = 0;
    await b.listen(async (r) => {
      calls++;
      return { status: 200, body: r.body };
    });
    await assert.rejects(a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 30 }), isCode('TIMEOUT'));
    assert.equal(calls, 0);
  });

  it('checks domain pins against the registered domain', async () => {
    const net = new MemoryNetwork();
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575', { domain: 'peer.test' });
    await b.listen(async (r) => ({ status: 200, body: r.body }));
    const ok = await a.request({
      address: '10.0.0.2:7575',
      headers: {},
      body,
      pin: { domain: 'peer.test' },
      timeoutMs: 500,
    });
    assert.equal(ok.status, 200);
    await assert.rejects(
      a.request({ address: '10.0.0.2:7575', headers: {}, body, pin: { domain: 'evil.test' }, timeoutMs: 500 }),
      isCode('TLS_PIN'),
    );
  });

  it('copies the body so the caller may reuse its buffer', async () => {
    const net = new MemoryNetwork({ latencyMs: 5 });
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    let seen = '';
    await b.listen(async (r) => {
      seen = new TextDecoder().decode(r.body);
      return { status: 200, body: r.body };
    });
    const buf = enc.encode('{"a":1}');
    const p = a.request({ address: '10.0.0.2:7575', headers: {}, body: buf, timeoutMs: 500 });
    buf.fill(0x20);
    await p;
    assert.equal(seen, '{"a":1}');
  });

  it('rejects pending calls with ABORTED on close', async () => {
    const net = new MemoryNetwork({ latencyMs: 50 });
    const a = net.transport('10.0.0.1:7575');
    const b = net.transport('10.0.0.2:7575');
    await b.listen(async (r) => ({ status: 200, body: r.body }));
    const p = a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 1000 });
    await a.close();
    await assert.rejects(p, isCode('ABORTED'));
    await assert.rejects(
      a.request({ address: '10.0.0.2:7575', headers: {}, body, timeoutMs: 1000 }),
      isCode('ABORTED'),
    );
  });
});
