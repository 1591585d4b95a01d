/**
 * Contact digests: what they cost (bytes per contact) and how often they are wrong (false positive
 * rate), measured on random UUIDs; and that a non-member never tests positive more often than the
 * Bloom bound allows. Numbers are printed for docs/PROTOCOL.md §14 and SECURITY.md.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { toB64u } from '../../src/crypto/index.ts';
import { DIGEST_BITS_PER_CONTACT, DIGEST_HASHES } from '../../src/protocol/constants.ts';
import { buildDigest, digestHas, filterBits, parseDigest } from '../../src/protocol/digest.ts';
import { Rng } from '../../src/sim/rng.ts';

function uuids(rng: Rng, n: number): string[] {
  const out: string[] = [];
  for (let i = 0; i < n; i++) {
    const h = Buffer.from(rng.bytes(16)).toString('hex');
    out.push(`${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`);
  }
  return out;
}

describe('contact digest: bytes and false positives', () => {
  const bound = (1 - Math.exp(-DIGEST_HASHES / DIGEST_BITS_PER_CONTACT)) ** DIGEST_HASHES;
  for (const n of [10, 100, 1000, 4096]) {
    it(`${n} contacts: every member tests positive; non-members at ≈ the Bloom bound (${(bound * 100).toFixed(2)} %)`, () => {
      const rng = new Rng(n);
      const members = uuids(rng, n);
      const payload = buildDigest(rng.bytes(32), members);
      const d = parseDigest(payload)!;
      for (const u of members) assert.equal(digestHas(d, u), true);
      const probes = uuids(rng, 20_000);
      let fp = 0;
      for (const u of probes) if (digestHas(d, u)) fp++;
      const rate = fp / probes.length;
      const wire = toB64u(payload).length + 12 * 2 + 22; // + nonce and tag in base64url
      console.log(
        `# digest n=${n}: ${payload.length} bytes payload (${(payload.length / n).toFixed(2)} B/contact), ~${wire} chars on the wire, false positives ${(rate * 100).toFixed(2)} %`,
      );
      assert.equal(payload.length, 34 + filterBits(n) / 8);
      // 64-bit minimum filter makes tiny digests sparser (fewer false positives), never denser.
      assert.ok(rate < bound * 1.6 + 0.002, `false positive rate ${rate} above ${bound}`);
    });
  }
});
