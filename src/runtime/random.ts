/** The runtime's default randomness port. */
import { randomBytes } from 'node:crypto';
import type { Random } from '../ports.ts';

/**
 * Crypto-strong randomness drawn from a 4 KiB pool: every message takes a few small draws (ids,
 * nonces), and one `randomBytes` call per draw cost ~5 % of a message's CPU.
 */
export function pooledRandom(): Random {
  let pool = randomBytes(4096);
  let at = 0;
  return {
    bytes(n: number): Uint8Array {
      if (n > 256) return new Uint8Array(randomBytes(n));
      if (at + n > pool.length) {
        pool = randomBytes(4096);
        at = 0;
      }
      // A copy: the caller owns its bytes, and no draw is ever handed out twice.
      const out = new Uint8Array(pool.subarray(at, at + n));
      at += n;
      return out;
    },
  };
}
