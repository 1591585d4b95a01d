/**
 * The simulator's crypto stand-in (src/sim/sim-crypto.ts) may replace the real primitives only
 * because routing cannot tell them apart: the same simulation with real crypto and with the stand-in
 * gives the same result document, apart from wall time and peak RSS. The graph is the smallest that
 * exercises every path a run takes — announces, referral spread, IP searches through relays, failed
 * searches, messages, drops — so the real-crypto half stays quick; `npm run sim:crypto-check` runs
 * the same comparison on 1,000 nodes.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { runSimulation, type SimOptions, type SimResult } from '../../src/sim/simulator.ts';

const strip = (r: SimResult) => {
  const { wallSeconds: _w, peakRssMb: _p, ...rest } = r;
  return rest;
};

describe('simulation with the crypto stand-in = simulation with real crypto', () => {
  it('hk:400:3:0.3, 30 % offline, 80 lookups, referral radius 1: the same document', async () => {
    // Referral radius 1 (the default is 0 since the contact digests), so referrals are compared too.
    const o: SimOptions = { generate: 'hk:400:3:0.3', seed: 3, lookups: 80, referralRadius: 1 };
    const fast = await runSimulation(o);
    const real = await runSimulation({ ...o, realCrypto: true });
    assert.deepEqual(strip(fast), strip(real));
    // The comparison means something only if the run took every path.
    const total = (k: string) => Object.values(fast.messagesByKind[k] ?? {}).reduce((s, x) => s + x, 0);
    for (const k of ['announce', 'referral', 'ip', 'ip-relay', 'message']) assert.ok(total(k) > 0, `${k} sent`);
    assert.ok(fast.successes > 0 && fast.successes < fast.eligibleLookups, 'some lookups succeed, some fail');
    assert.ok(Object.keys(fast.drops).length > 0, 'some inputs dropped');
  });

  it('the same graph with 2 peers with a domain (the directory, shipped referral radius): the same document', async () => {
    const o: SimOptions = { generate: 'hk:400:3:0.3', seed: 3, lookups: 80, domainPeers: 2 };
    const fast = await runSimulation(o);
    const real = await runSimulation({ ...o, realCrypto: true });
    assert.deepEqual(strip(fast), strip(real));
    const total = (k: string) => Object.values(fast.messagesByKind[k] ?? {}).reduce((s, x) => s + x, 0);
    assert.ok(total('directory') > 0, 'directory requests sent');
  });
});
