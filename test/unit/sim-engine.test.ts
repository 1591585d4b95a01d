/**
 * The one engine: the testnet and the simulator run on the same Engine class, and it is a pure
 * function of its seed (same seed → same run; another seed → another run).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import type { CoreEvent, Effect } from '../../src/protocol/events.ts';
import { Engine, type EngineCore } from '../../src/sim/engine.ts';
import { generate } from '../../src/sim/graph.ts';
import { Rng } from '../../src/sim/rng.ts';
import { runSimulation, Engine as SimEngine, type SimOptions } from '../../src/sim/simulator.ts';
import { createTestnet } from '../../src/testing/testnet.ts';

/** A scripted core: answers every request with 200 and records what it was handed. */
class EchoCore implements EngineCore {
  readonly seen: string[] = [];
  constructor(readonly script: (e: CoreEvent, now: number) => Effect[] = () => []) {}
  handle(e: CoreEvent, now: number): Effect[] {
    this.seen.push(`${now}:${e.type}${e.type === 'send-failed' ? `:${e.reason}` : ''}`);
    if (e.type === 'request')
      return [{ type: 'respond', requestId: e.requestId, status: 200, body: new Uint8Array(0) }];
    return this.script(e, now);
  }
}

const send = (address: string, requestId = 1): Effect => ({
  type: 'send',
  requestId,
  address,
  headers: {},
  body: new Uint8Array(3),
  timeoutMs: 5000,
  kind: 'announce',
});

describe('one engine for testnet and simulator', () => {
  it('the testnet and the simulator both drive Engine (src/sim/engine.ts)', async () => {
    const net = createTestnet(2, { seed: 1 });
    assert.ok(net.engine instanceof Engine);
    assert.equal(SimEngine, Engine);
    // The simulator builds no engine of its own: count the runs it makes on Engine.prototype.
    const original = Engine.prototype.runUntil;
    let runs = 0;
    Engine.prototype.runUntil = function (this: Engine, ...args: Parameters<Engine['runUntil']>) {
      runs++;
      return original.apply(this, args);
    };
    try {
      await runSimulation({ graph: generate('ws:30:4:0.1', new Rng(1)), seed: 1, offline: 0, moved: 0.1, lookups: 2 });
    } finally {
      Engine.prototype.runUntil = original;
    }
    assert.ok(runs >= 5, `one run per phase at least, got ${runs}`);
  });

  it('testnet: same seed → identical run, another seed → different identities', () => {
    const run = (seed: number) => {
      const net = createTestnet(3, { seed });
      net.connect(0, 1);
      net.connect(1, 2);
      net.startAll();
      net.run();
      net.command(0, { kind: 'send', to: net.nodes[2].uuid, text: 'hi' });
      net.run();
      return { uuids: net.nodes.map((n) => n.uuid), sent: { ...net.sent }, now: net.now };
    };
    assert.deepEqual(run(5), run(5));
    assert.notDeepEqual(run(5).uuids, run(6).uuids);
  });

  it('simulator: same seed → identical document, another seed → different', async () => {
    const o: SimOptions = { graph: generate('ws:60:4:0.1', new Rng(2)), seed: 9, offline: 0.2, moved: 0.1, lookups: 5 };
    const strip = ({ wallSeconds: _w, peakRssMb: _p, ...rest }: Awaited<ReturnType<typeof runSimulation>>) => rest;
    assert.deepEqual(strip(await runSimulation(o)), strip(await runSimulation(o)));
    assert.notDeepEqual(strip(await runSimulation(o)), strip(await runSimulation({ ...o, seed: 10 })));
  });
});

describe('engine delivery', () => {
  const twoNodes = (offline: 'refuse' | 'silent', loss = 0) => {
    const b = new EchoCore();
    const engine = new Engine({ latency: () => 30, offline, loss, seed: 1 });
    engine.addNode(new EchoCore(), '10.0.0.1:7575');
    engine.addNode(b, '10.0.0.2:7575');
    return { engine, b };
  };

  it('a request arrives after one latency and its answer after a round trip', () => {
    const { engine, b } = twoNodes('silent');
    // A core that emits one send when commanded.
    const c = new EchoCore((e) => (e.type === 'command' ? [send('10.0.0.2:7575')] : []));
    engine.restart(0, c);
    engine.command(0, { kind: 'start' });
    engine.runUntil(10_000);
    assert.deepEqual(b.seen, ['30:request']);
    assert.deepEqual(c.seen, ['0:command', '60:response']);
  });

  const cases: { desc: string; offline: 'refuse' | 'silent'; address: string; expected: string }[] = [
    {
      desc: 'nobody at the address: refused after a round trip',
      offline: 'silent',
      address: '10.9.9.9:7575',
      expected: '60:send-failed:CONNECT_FAILED',
    },
    {
      desc: 'offline host, refuse model: refused after a round trip',
      offline: 'refuse',
      address: '10.0.0.2:7575',
      expected: '60:send-failed:CONNECT_FAILED',
    },
    {
      desc: 'offline host, silent model: the send times out',
      offline: 'silent',
      address: '10.0.0.2:7575',
      expected: '5000:send-failed:TIMEOUT',
    },
  ];
  for (const { desc, offline, address, expected } of cases)
    it(desc, () => {
      const { engine } = twoNodes(offline);
      engine.setOnline(1, false);
      const c = new EchoCore((e) => (e.type === 'command' ? [send(address)] : []));
      engine.restart(0, c);
      engine.command(0, { kind: 'start' });
      engine.runUntil(10_000);
      assert.deepEqual(c.seen, ['0:command', expected]);
    });

  it('loss 1: every request is lost and times out', () => {
    const { engine, b } = twoNodes('silent', 1);
    const c = new EchoCore((e) => (e.type === 'command' ? [send('10.0.0.2:7575')] : []));
    engine.restart(0, c);
    engine.command(0, { kind: 'start' });
    engine.runUntil(10_000);
    assert.deepEqual(b.seen, []);
    assert.deepEqual(c.seen, ['0:command', '5000:send-failed:TIMEOUT']);
  });

  it('timers: replaced by the same id, cleared, and gone after a restart', () => {
    const engine = new Engine({});
    const c = new EchoCore((e) =>
      e.type === 'command'
        ? [
            { type: 'set-timer', timer: { kind: 'search', key: 'a' }, at: 100 },
            { type: 'set-timer', timer: { kind: 'search', key: 'a' }, at: 200 },
            { type: 'set-timer', timer: { kind: 'search', key: 'b' }, at: 150 },
            { type: 'clear-timer', timer: { kind: 'search', key: 'b' } },
            { type: 'set-timer', timer: { kind: 'search', key: 'c' }, at: 300 },
          ]
        : [],
    );
    engine.addNode(c, '10.0.0.1:7575');
    engine.command(0, { kind: 'start' });
    engine.runUntil(250);
    assert.deepEqual(c.seen, ['0:command', '200:timer']);
    const fresh = new EchoCore();
    engine.restart(0, fresh);
    engine.runUntil(1000);
    assert.deepEqual(fresh.seen, [], 'the old process’s timer "c" does not fire in the new one');
  });

  it('an answer to a core that restarted meanwhile is lost', () => {
    const { engine } = twoNodes('silent');
    const c = new EchoCore((e) => (e.type === 'command' ? [send('10.0.0.2:7575')] : []));
    engine.restart(0, c);
    engine.command(0, { kind: 'start' });
    engine.runUntil(40); // request arrived at 30, answer on the way
    const fresh = new EchoCore();
    engine.restart(0, fresh);
    engine.runUntil(10_000);
    assert.deepEqual(fresh.seen, []);
  });
});
