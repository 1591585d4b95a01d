import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveUuid, generateKeyPairs } from '../../src/crypto/index.ts';
import { keyPairsOf } from '../../src/sim/key-pool.ts';
import { Rng } from '../../src/sim/rng.ts';
import { waveEnd } from '../../src/sim/scenario.ts';

describe('lookup waves (--lookup-concurrency)', () => {
  const pairs: [number, number][] = [
    [1, 2],
    [3, 4],
    [5, 2], // target 2 again
    [6, 7],
    [7, 8], // 7 was a target, now a searcher
    [9, 10],
  ];
  it('concurrency 1: one lookup at a time', () => {
    for (let i = 0; i < pairs.length; i++) assert.equal(waveEnd(pairs, i, 1), i + 1);
  });
  it('a wave ends before a pair that shares a searcher or target with the wave', () => {
    assert.equal(waveEnd(pairs, 0, 10), 2);
    assert.equal(waveEnd(pairs, 2, 10), 4);
    assert.equal(waveEnd(pairs, 4, 10), 6);
  });
  it('a wave holds at most `concurrency` lookups and stops at the end', () => {
    assert.equal(waveEnd(pairs, 4, 1), 5);
    assert.equal(waveEnd(pairs, 5, 10), 6);
    assert.equal(waveEnd(pairs, 6, 10), 6);
  });
});

describe('key pool', () => {
  it('worker threads derive the very keys generateKeyPairs draws in node order', async () => {
    const n = 37;
    const pooled = await keyPairsOf(new Rng(5), n, 3, 0);
    const inline = await keyPairsOf(new Rng(5), n, 1);
    assert.deepEqual(pooled.uuids, inline.uuids);
    assert.deepEqual(pooled.keys, inline.keys);
    const rng = new Rng(5);
    for (let v = 0; v < n; v++) {
      const kp = generateKeyPairs((k) => rng.bytes(k));
      assert.equal(pooled.uuids[v], deriveUuid(kp.signPub, kp.boxPub));
      assert.deepEqual(pooled.keys.subarray(128 * v, 128 * v + 32), kp.signPub);
      assert.deepEqual(pooled.keys.subarray(128 * v + 96, 128 * v + 128), kp.boxPriv);
    }
  });
});
