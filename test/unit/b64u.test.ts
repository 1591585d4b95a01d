/**
 * The base64url decoder as a table: what it accepts, what it refuses, and that refusing is a clean
 * answer (null / INVALID_ARGUMENT), never another exception — remote input reaches it (issue 12, #15).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { fromB64u, isB64uDecodable, toB64u, tryFromB64u } from '../../src/crypto/b64u.ts';
import { MeshError } from '../../src/errors.ts';

const table: { desc: string; input: unknown; expected: number[] | null }[] = [
  { desc: 'empty', input: '', expected: [] },
  { desc: '1 char: 6 bits, not a byte', input: 'A', expected: null },
  { desc: '2 chars: 1 byte', input: 'AA', expected: [0] },
  { desc: '3 chars: 2 bytes', input: '__8', expected: [255, 255] },
  { desc: '4 chars: 3 bytes', input: 'AQID', expected: [1, 2, 3] },
  { desc: '5 chars (≡ 1 mod 4)', input: 'AQIDB', expected: null },
  { desc: '25 chars (≡ 1 mod 4)', input: 'A'.repeat(25), expected: null },
  { desc: '22 chars: a 16-byte id', input: 'A'.repeat(22), expected: new Array(16).fill(0) },
  { desc: 'url-safe alphabet: - and _', input: '-_-_', expected: [251, 255, 191] },
  { desc: 'standard alphabet +', input: '+/+/', expected: null },
  { desc: 'padding', input: 'AA==', expected: null },
  { desc: 'space', input: 'AA A', expected: null },
  { desc: 'newline', input: 'AAAA\n', expected: null },
  { desc: 'non-ASCII', input: 'AAé', expected: null },
  { desc: 'not a string: number', input: 1234, expected: null },
  { desc: 'not a string: null', input: null, expected: null },
  { desc: 'not a string: array', input: ['AAAA'], expected: null },
];

describe('base64url decoding', () => {
  for (const { desc, input, expected } of table) {
    it(desc, () => {
      assert.equal(isB64uDecodable(input), expected !== null);
      const got = tryFromB64u(input);
      assert.deepEqual(got === null ? null : [...got], expected);
      if (expected === null)
        assert.throws(
          () => fromB64u(input as string),
          (e) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT',
        );
      else assert.deepEqual([...fromB64u(input as string)], expected);
    });
  }

  it('every length: decodes exactly when length mod 4 is not 1, and never throws otherwise', () => {
    for (let n = 0; n <= 200; n++) {
      const s = 'Q'.repeat(n);
      const got = tryFromB64u(s);
      assert.equal(got === null, n % 4 === 1, `length ${n}`);
      if (got) assert.equal(got.length, Math.floor((n * 6) / 8), `bytes from ${n} chars`);
    }
  });

  it('round trip for 0..64 bytes', () => {
    for (let n = 0; n <= 64; n++) {
      const bytes = Uint8Array.from({ length: n }, (_, i) => (i * 37 + n) & 255);
      const s = toB64u(bytes);
      assert.ok(isB64uDecodable(s), `encoding of ${n} bytes is decodable`);
      assert.deepEqual(fromB64u(s), bytes);
    }
  });
});
