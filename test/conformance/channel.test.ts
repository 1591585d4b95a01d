/**
 * Channel conformance: one suite, run against the HTTPS transport (real TLS 1.3 + WebSocket on
 * 127.0.0.x) and the memory transport, so the channel binding behaves the same on both: HELLO
 * authentication bound to the session, both directions, multiplexing, forged handshakes refused with
 * their close code, one channel per pair, loss → POST → redial, bad frames refused while the node serves.
 */
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, describe, it } from 'node:test';
import { deriveUuid, generateKeyPairs, type KeyPairs, signEd25519 } from '../../src/crypto/index.ts';
import type { ChannelEvent, ChannelTransport, InboundRequest, RequestHandler } from '../../src/ports.ts';
import { TransportError } from '../../src/ports.ts';
import { buildHello } from '../../src/transport/channel/channel.ts';
import { CHANNEL_PROBE_MS, CLOSE } from '../../src/transport/channel/constants.ts';
import type { ChannelInit } from '../../src/transport/channel/hub.ts';
import type { ChannelLink } from '../../src/transport/channel/link.ts';
import {
  CHANNEL_VERSION,
  decodeFrame,
  encodeFrame,
  helloSigningInput,
  MAX_FRAME_BYTES,
} from '../../src/transport/channel-frames.ts';
import type { RateLimitOptions } from '../../src/transport/edge.ts';
import { dialWs } from '../../src/transport/https/channel-ws.ts';
import { HttpsTransport } from '../../src/transport/https/index.ts';
import { MemoryNetwork, type MemoryTransport } from '../../src/transport/memory/index.ts';
import { parseAddress } from '../../src/util/address.ts';

interface NodeOpts {
  /** false = a POST-only node (no channel binding). @default true */
  channels?: boolean;
  keys?: KeyPairs;
  /** Listen here (a restart at the same address). */
  address?: string;
  rateLimit?: RateLimitOptions | false;
  maxBodyBytes?: number;
  channel?: ChannelInit;
}

interface TestNode {
  transport: ChannelTransport;
  keys: KeyPairs;
  uuid: string;
  address: string;
  events: ChannelEvent[];
}

/** What a transport implementation provides to the suite. */
export interface ChannelFactory {
  /** A listening node with `handler`. */
  node(handler: RequestHandler, opts?: NodeOpts): Promise<TestNode>;
  /** An unauthenticated link from `from` to `address` pinned to `signPub` (for forged handshakes). */
  rawLink(from: TestNode, address: string, signPub: Uint8Array): Promise<ChannelLink>;
  close(): Promise<void>;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const keys = () => generateKeyPairs(randomBytes);
const FAST: ChannelInit = { redialMinMs: 50, redialMaxMs: 400, helloTimeoutMs: 2000 };

/** A handler that answers with what it saw: the body and the channel peer's uuid (or null for POST). */
const mirror: RequestHandler = async (req: InboundRequest) => ({
  status: 200,
  body: enc.encode(JSON.stringify({ body: dec.decode(req.body), via: req.channel?.uuid ?? null })),
});

async function until(what: string, cond: () => boolean, ms = 5000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > ms) assert.fail(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

function call(from: TestNode, to: TestNode, text: string, timeoutMs = 3000) {
  return from.transport
    .request({
      address: to.address,
      headers: { 'Mesh-Version': '1', 'Mesh-From': from.uuid },
      body: enc.encode(text),
      pin: { signPub: to.keys.signPub },
      timeoutMs,
    })
    .then((r) => ({ status: r.status, ...(JSON.parse(dec.decode(r.body)) as { body: string; via: string | null }) }));
}

/** Resolves with the close code of a raw link. */
function closeCode(link: ChannelLink): Promise<number> {
  return new Promise((resolve) => {
    link.onClose = (code) => resolve(code);
  });
}

/** Runs the channel conformance suite against one implementation. */
export function channelConformance(name: string, makeFactory: () => ChannelFactory): void {
  describe(`channel conformance: ${name}`, () => {
    const f = makeFactory();
    after(() => f.close());

    async function pair(handler: RequestHandler = mirror, opts: NodeOpts = {}) {
      const a = await f.node(handler, { channel: FAST, ...opts });
      const b = await f.node(handler, { channel: FAST, ...opts });
      return { a, b };
    }

    /** Opens a channel a → b and waits until both ends report it. */
    async function connect(a: TestNode, b: TestNode) {
      a.transport.keepChannel(b.address, { signPub: b.keys.signPub });
      await until(
        'channel open',
        () => !!a.transport.channelTo(b.keys.signPub) && !!b.transport.channelTo(a.keys.signPub),
      );
    }

    it('opens and authenticates both identities; requests carry the peer, both directions', async () => {
      const { a, b } = await pair();
      assert.equal((await call(a, b, 'before')).via, null, 'without a channel the request is a POST');
      await connect(a, b);
      assert.deepEqual(a.transport.channelTo(b.keys.signPub)?.uuid, b.uuid);
      assert.deepEqual(Buffer.from(b.transport.channelTo(a.keys.signPub)?.boxPub ?? []), Buffer.from(a.keys.boxPub));
      const [ea] = a.events;
      const [eb] = b.events;
      assert.equal(ea.type, 'channel:open');
      assert.equal(ea.dialled, true);
      assert.equal(eb.type, 'channel:open');
      assert.equal(eb.dialled, false);
      assert.equal(eb.peer.uuid, a.uuid);
      const ab = await call(a, b, 'a→b');
      assert.deepEqual(ab, { status: 200, body: 'a→b', via: a.uuid });
      // b never dialled: it answers over the channel a opened.
      const ba = await call(b, a, 'b→a');
      assert.deepEqual(ba, { status: 200, body: 'b→a', via: b.uuid });
    });

    it('multiplexes 10 requests in flight each way; answers out of order reach their callers', async () => {
      const slow: RequestHandler = async (req) => {
        const n = Number(dec.decode(req.body).split(':')[1]);
        await sleep((10 - n) * 8); // the first request is answered last
        return mirror(req);
      };
      const { a, b } = await pair(slow);
      await connect(a, b);
      const order: string[] = [];
      const run = (x: TestNode, y: TestNode, tag: string) =>
        Array.from({ length: 10 }, (_, i) =>
          call(x, y, `${tag}:${i}`).then((r) => {
            order.push(r.body);
            assert.equal(r.body, `${tag}:${i}`);
            assert.equal(r.via, x.uuid);
          }),
        );
      await Promise.all([...run(a, b, 'ab'), ...run(b, a, 'ba')]);
      assert.equal(order.length, 20);
      assert.notDeepEqual(
        order.filter((o) => o.startsWith('ab')),
        Array.from({ length: 10 }, (_, i) => `ab:${i}`),
        'answers came back in the order sent: no multiplexing was exercised',
      );
    });

    it('a request not answered in time fails with TIMEOUT; the others in flight, earlier and later, are answered', async () => {
      // The channel watches its requests' deadlines with one timer (not one per request): a late
      // answer must still time out exactly its own request, in time, and nothing else.
      const hang: RequestHandler = async (req) => {
        const text = dec.decode(req.body);
        if (text.startsWith('hang')) await sleep(Number(text.split(':')[1]));
        return mirror(req);
      };
      const { a, b } = await pair(hang);
      await connect(a, b);
      const t0 = Date.now();
      const slow = call(a, b, 'hang:1500', 300).then(
        () => 'answered',
        (e: unknown) => (e instanceof TransportError ? e.code : String(e)),
      );
      const later = call(a, b, 'hang:100', 3000);
      const quick = await Promise.all(Array.from({ length: 5 }, (_, i) => call(a, b, `q${i}`, 3000)));
      assert.deepEqual(
        quick.map((r) => r.body),
        ['q0', 'q1', 'q2', 'q3', 'q4'],
      );
      assert.equal(await slow, 'TIMEOUT');
      const took = Date.now() - t0;
      assert.ok(took >= 250 && took < 1400, `timed out after ${took} ms (timeout 300 ms)`);
      assert.equal((await later).body, 'hang:100', 'a request with a later deadline is still answered');
      assert.equal((await call(a, b, 'after', 300)).via, a.uuid, 'the channel still serves');
    });

    it('refuses forged HELLOs with 4001 AUTH_FAILED and keeps serving', async () => {
      let calls = 0;
      const counting: RequestHandler = async (req) => {
        calls++;
        return mirror(req);
      };
      const { a, b } = await pair(counting);
      const mallory = keys();
      const forge = {
        // Signed over another connection's exporter (a replayed or relayed HELLO).
        otherSession: async (link: ChannelLink) => {
          const other = await f.rawLink(a, b.address, b.keys.signPub);
          link.send(buildHello(a.keys, 0, other.exporter));
          other.close(CLOSE.NORMAL, 'done');
        },
        // a's keys in the HELLO, signed with mallory's key.
        wrongKey: async (link: ChannelLink) => {
          const sig = signEd25519(mallory.signPriv, helloSigningInput(0, link.exporter, a.keys.signPub, a.keys.boxPub));
          const e = encodeFrame({ kind: 'hello', version: CHANNEL_VERSION, role: 0, ...pick(a.keys), signature: sig });
          assert.ok(e.ok);
          link.send(e.bytes);
        },
        // A correct signature, but for the listener's role (a reflected answer).
        wrongRole: async (link: ChannelLink) => link.send(buildHello(a.keys, 1, link.exporter)),
        // The server's own identity (a reflected HELLO).
        ownKey: async (link: ChannelLink) => link.send(buildHello(b.keys, 0, link.exporter)),
      };
      for (const [what, send] of Object.entries(forge)) {
        const link = await f.rawLink(a, b.address, b.keys.signPub);
        const code = closeCode(link);
        await send(link);
        assert.equal(await code, CLOSE.AUTH_FAILED, what);
      }
      assert.equal(b.transport.channelTo(a.keys.signPub), null);
      assert.equal(calls, 0);
      assert.equal((await call(a, b, 'post still works')).via, null);
      await connect(a, b);
      assert.equal((await call(a, b, 'channel still works')).via, a.uuid);
    });

    it('simultaneous dial leaves exactly one channel: the one the lower UUID dialled', async () => {
      for (let round = 0; round < 3; round++) {
        const { a, b } = await pair();
        a.transport.keepChannel(b.address, { signPub: b.keys.signPub });
        b.transport.keepChannel(a.address, { signPub: a.keys.signPub });
        await until(
          'channel open',
          () => !!a.transport.channelTo(b.keys.signPub) && !!b.transport.channelTo(a.keys.signPub),
        );
        await sleep(150); // let any loser finish closing
        const lower = a.uuid < b.uuid ? a : b;
        for (const n of [a, b]) {
          const live = liveChannels(n.events);
          assert.equal(live.length, 1, `round ${round}: ${n === a ? 'a' : 'b'} holds ${live.length} channels`);
          assert.equal(live[0].dialled, n === lower, 'the surviving channel is the one the lower UUID dialled');
        }
        assert.equal((await call(a, b, 'x')).via, a.uuid);
        assert.equal((await call(b, a, 'y')).via, b.uuid);
      }
    });

    it('peer dies → requests fall back to POST, then the channel redials', async () => {
      const slowRedial: ChannelInit = { ...FAST, redialMinMs: 1500, redialMaxMs: 3000 };
      const a = await f.node(mirror, { channel: slowRedial });
      const bKeys = keys();
      const b = await f.node(mirror, { keys: bKeys, channel: FAST });
      await connect(a, b);
      const inFlight = call(a, b, 'in flight', 3000).catch((e: unknown) => e);
      await b.transport.close();
      await until('channel:close at a', () => a.events.some((e) => e.type === 'channel:close'));
      assert.equal(a.transport.channelTo(b.keys.signPub), null);
      const lost = await inFlight;
      assert.ok(!(lost instanceof Error) || lost instanceof TransportError, String(lost));
      // b comes back at the same address with the same identity before a redials.
      const b2 = await f.node(mirror, { keys: bKeys, address: b.address, channel: FAST });
      assert.equal((await call(a, b2, 'fallback')).via, null, 'the request went over POST');
      await until('redial', () => !!a.transport.channelTo(b2.keys.signPub), 6000);
      assert.equal((await call(a, b2, 'again')).via, a.uuid);
    });

    it('network changed: every channel is dropped and redialled at once, not after the backoff', async () => {
      const slowRedial: ChannelInit = { ...FAST, redialMinMs: 4000, redialMaxMs: 8000 };
      const a = await f.node(mirror, { channel: slowRedial });
      const b = await f.node(mirror, { channel: FAST });
      await connect(a, b);
      const t0 = Date.now();
      a.transport.networkChanged();
      assert.equal(a.transport.channelTo(b.keys.signPub), null, 'the old channel is gone at once');
      await until('the redialled channel', () => a.events.filter((e) => e.type === 'channel:open').length === 2, 3000);
      assert.ok(Date.now() - t0 < 3000, 'redialled before the 4 s backoff');
      const opens = a.events.filter((e) => e.type === 'channel:open');
      assert.equal(opens[1].dialled, true);
      await until('b holds the new channel', () => b.events.filter((e) => e.type === 'channel:open').length === 2);
      assert.equal((await call(a, b, 'after')).via, a.uuid);
      assert.equal((await call(b, a, 'back')).via, b.uuid);
    });

    it('a peer that lost our channel silently dials a new one: ours is probed and replaced, not kept', async () => {
      // b (the lower UUID) dialled the channel; a then drops it without a word (a move: on memory
      // the far end hears nothing) and dials b again. By the pair rule b's own channel would win,
      // and without the probe b would hold the dead one for two ping intervals (here 2 minutes).
      let ka = keys();
      let kb = keys();
      while (deriveUuid(kb.signPub, kb.boxPub) > deriveUuid(ka.signPub, ka.boxPub)) [ka, kb] = [keys(), keys()];
      const slow: ChannelInit = { ...FAST, pingMs: 60_000 };
      const a = await f.node(mirror, { keys: ka, channel: slow });
      const b = await f.node(mirror, { keys: kb, channel: slow });
      await connect(b, a);
      a.transport.keepChannel(b.address, { signPub: b.keys.signPub });
      await sleep(100);
      a.transport.networkChanged();
      await until(
        'a new channel at both ends',
        () =>
          a.events.filter((e) => e.type === 'channel:open').length >= 2 &&
          b.events.filter((e) => e.type === 'channel:open').length >= 2,
        5000,
      );
      assert.equal((await call(b, a, 'b→a')).via, b.uuid);
      assert.equal((await call(a, b, 'a→b')).via, a.uuid);
    });

    it('a probe of a live channel keeps it; a node without a dialled channel has nothing to probe', async () => {
      const { a, b } = await pair(mirror, { channel: { ...FAST, pingMs: 60_000 } });
      assert.equal(a.transport.probeChannel(), false, 'no channel yet');
      await connect(a, b);
      assert.equal(b.transport.probeChannel(), false, 'b did not dial the channel');
      assert.equal(a.transport.probeChannel(), true);
      await sleep(CHANNEL_PROBE_MS + 300);
      assert.ok(a.transport.channelTo(b.keys.signPub), 'the pong kept the channel');
      assert.equal(a.events.filter((e) => e.type === 'channel:close').length, 0);
      assert.equal((await call(a, b, 'still')).via, a.uuid);
    });

    it('a POST-only peer (no channel binding): the dial fails, requests keep going over POST', async () => {
      const a = await f.node(mirror, { channel: FAST });
      const old = await f.node(mirror, { channels: false });
      a.transport.keepChannel(old.address, { signPub: old.keys.signPub });
      await sleep(300);
      assert.equal(a.transport.channelTo(old.keys.signPub), null);
      // No channel opened; every failed dial was reported (the runtime stops dialling peers it never reached).
      assert.ok(a.events.length > 0, 'the failed dials were reported');
      for (const e of a.events) {
        assert.equal(e.type, 'channel:unreached');
        assert.equal(e.remote, old.address);
      }
      assert.deepEqual(await call(a, old, 'v1'), { status: 200, body: 'v1', via: null });
    });

    it('oversized and malformed frames are refused; the node keeps serving', async () => {
      const { a, b } = await pair(mirror, { maxBodyBytes: 1024 });
      const mallory = await f.node(mirror, { keys: keys(), channel: FAST });
      const authed = async () => {
        const link = await f.rawLink(mallory, b.address, b.keys.signPub);
        const answers: Uint8Array[] = [];
        link.onMessage = (m) => answers.push(m);
        link.send(buildHello(mallory.keys, 0, link.exporter));
        await until('HELLO answer', () => answers.length === 1);
        return { link, answers };
      };
      const request = (id: number, body: Uint8Array) => {
        const e = encodeFrame({ kind: 'request', id, headers: { 'mesh-version': '1' }, body });
        assert.ok(e.ok);
        return e.bytes;
      };
      // A body over the edge's limit: 413 TOO_LARGE on the same channel, which stays open.
      const s = await authed();
      s.link.send(request(7, new Uint8Array(1025)));
      s.link.send(request(8, enc.encode('fits')));
      await until('two answers', () => s.answers.length === 3);
      const r7 = decodeFrame(s.answers[1]);
      const r8 = decodeFrame(s.answers[2]);
      assert.ok(r7.ok && r7.frame.kind === 'response' && r7.frame.id === 7);
      assert.equal(r7.frame.status, 413);
      assert.equal(JSON.parse(dec.decode(r7.frame.body)).error, 'TOO_LARGE');
      assert.ok(r8.ok && r8.frame.kind === 'response' && r8.frame.id === 8 && r8.frame.status === 200);
      // Garbage, a REQUEST before HELLO, a second HELLO: 4000 BAD_FRAME.
      const bad: [string, (l: ChannelLink) => void][] = [
        ['garbage', (l) => l.send(new Uint8Array([0x09, 1, 2, 3]))],
        ['request first', (l) => l.send(request(1, new Uint8Array(1)))],
        ['truncated hello', (l) => l.send(buildHello(mallory.keys, 0, l.exporter).subarray(0, 100))],
      ];
      for (const [what, send] of bad) {
        const link = await f.rawLink(mallory, b.address, b.keys.signPub);
        const code = closeCode(link);
        send(link);
        assert.equal(await code, CLOSE.BAD_FRAME, what);
      }
      const again = await authed();
      const code = closeCode(again.link);
      again.link.send(buildHello(mallory.keys, 0, again.link.exporter));
      assert.equal(await code, CLOSE.BAD_FRAME, 'second HELLO');
      // A message over the frame limit: 1009, as `ws` answers it.
      const big = await authed();
      const bigCode = closeCode(big.link);
      big.link.send(new Uint8Array(MAX_FRAME_BYTES + 1).fill(2));
      assert.equal(await bigCode, CLOSE.TOO_BIG);
      // Still serving: POST and a proper channel.
      assert.equal((await call(a, b, 'post')).via, null);
      await connect(a, b);
      assert.equal((await call(a, b, 'channel')).via, a.uuid);
    });
  });
}

function pick(k: KeyPairs) {
  return { signPub: k.signPub, boxPub: k.boxPub };
}

/** Channels a node currently holds according to its events (opened and not yet closed). */
function liveChannels(events: ChannelEvent[]): Extract<ChannelEvent, { type: 'channel:open' }>[] {
  const live: Extract<ChannelEvent, { type: 'channel:open' }>[] = [];
  for (const e of events) {
    if (e.type === 'channel:open') live.push(e);
    else if (e.type === 'channel:close') {
      const i = live.findIndex((o) => o.remote === e.remote && o.dialled === e.dialled);
      if (i >= 0) live.splice(i, 1);
    }
  }
  return live;
}

function wire(t: ChannelTransport, k: KeyPairs, address: string): TestNode {
  const n: TestNode = { transport: t, keys: k, uuid: deriveUuid(k.signPub, k.boxPub), address, events: [] };
  t.onChannel((e) => n.events.push(e));
  return n;
}

channelConformance('https', () => {
  const nodes: ChannelTransport[] = [];
  let ip = 10;
  return {
    async node(handler, opts = {}) {
      const k = opts.keys ?? keys();
      const at = opts.address ? parseAddress(opts.address) : { host: `127.0.0.${ip++}`, port: 0 };
      const t = new HttpsTransport({
        ...at,
        signPriv: k.signPriv,
        signPub: k.signPub,
        ...(opts.channels === false ? {} : { boxPub: k.boxPub }),
        rateLimit: opts.rateLimit ?? false,
        maxBodyBytes: opts.maxBodyBytes,
        channel: opts.channel,
      });
      nodes.push(t);
      return wire(t, k, await t.listen(handler));
    },
    async rawLink(from, address, signPub) {
      const { host, port } = parseAddress(address);
      return dialWs({ host, port, signPub, localAddress: parseAddress(from.address).host, timeoutMs: 3000 });
    },
    async close() {
      await Promise.all(nodes.map((t) => t.close()));
    },
  };
});

channelConformance('memory', () => {
  const net = new MemoryNetwork({ latencyMs: 2, jitterMs: 2 });
  const nodes: ChannelTransport[] = [];
  let n = 0;
  return {
    async node(handler, opts = {}) {
      const k = opts.keys ?? keys();
      const address = opts.address ?? `10.1.0.${++n}:7575`;
      const t = net.transport(address, {
        signPub: k.signPub,
        ...(opts.channels === false ? {} : { signPriv: k.signPriv, boxPub: k.boxPub }),
        rateLimit: opts.rateLimit ?? false,
        maxBodyBytes: opts.maxBodyBytes,
        channel: opts.channel,
      });
      nodes.push(t);
      return wire(t, k, await t.listen(handler));
    },
    rawLink(from, address, signPub) {
      return (from.transport as MemoryTransport).dialLink(address, signPub);
    },
    async close() {
      await Promise.all(nodes.map((t) => t.close()));
    },
  };
});
