import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveUuid, generateKeyPairs } from '../../src/crypto/index.ts';
import { keyPairsOf } from '../../src/sim/key-pool.ts';
import { Rng } from '../../src/sim/rng.ts';
import { takeWave } from '../../src/sim/scenario.ts';

describe('lookup waves (--lookup-concurrency)', () => {
  const pairs: [number, number][] = [
    [1, 2],
    [3, 4],
    [5, 2], // target 2 again
    [6, 7],
    [7, 8], // 7 was a target, now a searcher
    [9, 10],
  ];
  const all = () => pairs.map((_, k) => k);
  it('concurrency 1: one lookup at a time, in order', () => {
    const pending = all();
    for (let k = 0; k < pairs.length; k++) assert.deepEqual(takeWave(pairs, pending, 1), [k]);
    assert.deepEqual(pending, []);
  });
  it('a pair that shares a searcher or target with the wave waits for a later wave, in order', () => {
    const pending = all();
    assert.deepEqual(takeWave(pairs, pending, 10), [0, 1, 3, 5]);
    assert.deepEqual(pending, [2, 4]);
    assert.deepEqual(takeWave(pairs, pending, 10), [2, 4]);
    assert.deepEqual(pending, []);
  });
  it('a wave holds at most `concurrency` lookups', () => {
    const pending = all();
    assert.deepEqual(takeWave(pairs, pending, 2), [0, 1]);
    assert.deepEqual(takeWave(pairs, pending, 2), [2, 3]);
    assert.deepEqual(takeWave(pairs, pending, 2), [4, 5]);
    assert.deepEqual(takeWave(pairs, pending, 2), []);
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
