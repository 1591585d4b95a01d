/**
 * The race of PROTOCOL.md §13.8: a request that goes over a channel carries no Mesh-Secret; when
 * the channel closes under it, the transport POSTs it as the core built it (with Mesh-Secret).
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import { generateKeyPairs } from '../../src/crypto/index.ts';
import type { InboundRequest } from '../../src/ports.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { MemoryNetwork } from '../../src/transport/memory/index.ts';

const ok = { status: 200, body: new TextEncoder().encode('{"ok":true}') };
const headers = { 'mesh-version': '1', 'mesh-type': 'message', 'mesh-secret': 'proof' };

async function until(what: string, cond: () => boolean): Promise<void> {
  const end = Date.now() + 5000;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out: ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

describe('channel lost under a request → POST with the proof', () => {
  for (const kind of ['https', 'memory'] as const) {
    it(kind, async () => {
      const ka = generateKeyPairs(randomBytes);
      const kb = generateKeyPairs(randomBytes);
      const seen: InboundRequest[] = [];
      let hold = true;
      const handler = async (req: InboundRequest) => {
        seen.push(req);
        if (req.channel && hold) await new Promise((r) => setTimeout(r, 300));
        return ok;
      };
      let a: HttpsTransport | import('../../src/transport/memory/index.ts').MemoryTransport;
      let b: typeof a;
      let bAddress: string;
      if (kind === 'https') {
        a = new HttpsTransport({ host: '127.0.0.61', port: 0, ...ka });
        b = new HttpsTransport({ host: '127.0.0.62', port: 0, ...kb });
        await a.listen(async () => ok);
        bAddress = await b.listen(handler);
      } else {
        const net = new MemoryNetwork();
        a = net.transport('10.0.0.1:7575', { ...ka });
        b = net.transport('10.0.0.2:7575', { ...kb });
        await a.listen(async () => ok);
        bAddress = await b.listen(handler);
      }
      try {
        a.keepChannel(bAddress, { signPub: kb.signPub });
        await until('channel', () => a.channelTo(kb.signPub) !== null);
        const pending = a.request({
          address: bAddress,
          headers,
          body: new Uint8Array(2),
          pin: { signPub: kb.signPub },
          timeoutMs: 5000,
        });
        await until('request on the channel', () => seen.length === 1);
        assert.ok(seen[0].channel, 'first attempt went over the channel');
        assert.equal(seen[0].headers['mesh-secret'], undefined, 'no Mesh-Secret on the channel');
        hold = false;
        a.releaseChannel(kb.signPub); // the channel closes while the request waits for its answer
        const res = await pending;
        assert.equal(res.status, 200);
        assert.ok(!res.channel, 'the answer came by POST');
        assert.equal(seen.length, 2);
        assert.ok(!seen[1].channel);
        assert.equal(seen[1].headers['mesh-secret'], 'proof', 'the POST carries the proof the core computed');
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    });
  }
});
