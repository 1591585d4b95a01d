import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { describe, it } from 'node:test';
import { KeyedHmacSha256 } from '../../src/crypto/hmac-keyed.ts';
import { Rng } from '../../src/sim/rng.ts';

describe('KeyedHmacSha256', () => {
  it('equals node:crypto HMAC-SHA256 for keys and messages of every length class', () => {
    const rng = new Rng(11);
    // Message lengths around the one- and two-block padding limits (55/56, 64, 119/120), keys short,
    // exactly one block, and longer than a block (hashed first).
    const keyLens = [0, 1, 16, 32, 63, 64, 65, 100, 200];
    const msgLens = [0, 1, 36, 55, 56, 63, 64, 65, 119, 120, 128, 200, 1000];
    for (const kl of keyLens) {
      const key = rng.bytes(kl);
      const h = new KeyedHmacSha256(key);
      for (const ml of msgLens) {
        const msg = rng.bytes(ml);
        const want = new Uint8Array(createHmac('sha256', key).update(msg).digest());
        assert.deepEqual(h.mac(msg), want, `key ${kl} bytes, message ${ml} bytes`);
      }
    }
  });
  it('RFC 4231 test case 2', () => {
    const h = new KeyedHmacSha256(new TextEncoder().encode('Jefe'));
    const mac = h.mac(new TextEncoder().encode('what do ya want for nothing?'));
    assert.equal(Buffer.from(mac).toString('hex'), '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });
});
