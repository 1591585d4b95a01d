/**
 * The simulator's crypto stand-in against the real primitives, primitive by primitive: the same
 * output lengths and random draws, and the same accept/refuse for the right key and for each wrong
 * input. (test/integration/sim-crypto.test.ts checks a whole simulation.)
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { generateKeyPairs, utf8 } from '../../src/crypto/index.ts';
import { type CoreCrypto, REAL_CRYPTO } from '../../src/protocol/core-crypto.ts';
import { openDigest, sealDigest } from '../../src/protocol/digest.ts';
import { Rng } from '../../src/sim/rng.ts';
import { SIM_CRYPTO } from '../../src/sim/sim-crypto.ts';

const rng = new Rng(7);
const random = (n: number) => rng.bytes(n);
const a = generateKeyPairs(random);
const b = generateKeyPairs(random);
const c = generateKeyPairs(random);
const secret = random(32);
const other = random(32);
const UA = '00000000-0000-8000-8000-00000000000a';
const UB = '00000000-0000-8000-8000-00000000000b';
const fields = {
  version: 1,
  type: 'IP',
  from: UA,
  id: 'abcdefghijklmnopqrstuv',
  ts: 5,
  port: 7575,
  body: utf8('{"x":1}'),
};

for (const [name, cc] of [
  ['real', REAL_CRYPTO],
  ['stand-in', SIM_CRYPTO],
] as [string, CoreCrypto][]) {
  describe(`core crypto: ${name}`, () => {
    const kAB = cc.deriveLinkKey(a.boxPriv, b.boxPub, secret, UA, UB);
    const kBA = cc.deriveLinkKey(b.boxPriv, a.boxPub, secret, UB, UA);
    const kAC = cc.deriveLinkKey(a.boxPriv, c.boxPub, other, UA, UB);

    it('link keys: both ends agree, another pair differs', () => {
      assert.deepEqual(kAB, kBA);
      assert.notDeepEqual(kAB, kAC);
      assert.equal(kAB.length, 32);
    });

    it('proofs: 43 characters, checked only under the same key and input', () => {
      const input = cc.requestSigningInput(fields);
      const p = cc.computeProof(kAB, input);
      assert.equal(p.length, 43);
      assert.match(p, /^[A-Za-z0-9_-]{43}$/);
      assert.equal(cc.checkProof(kBA, input, p), true);
      assert.equal(cc.checkProof(kAC, input, p), false);
      for (const change of [{ id: 'bbcdefghijklmnopqrstuv' }, { ts: 6 }, { port: null }, { body: utf8('{"x":2}') }])
        assert.equal(cc.checkProof(kAB, cc.requestSigningInput({ ...fields, ...change }), p), false);
      const r = cc.responseSigningInput('id', '1.2.3.4:5', 'data');
      const q = cc.computeProof(kAB, r);
      assert.equal(cc.checkProof(kAB, cc.responseSigningInput('id', '1.2.3.4:5', 'data'), q), true);
      assert.equal(cc.checkProof(kAB, cc.responseSigningInput('id', '1.2.3.4:6', 'data'), q), false);
      assert.equal(cc.checkProof(kAB, r, 'x'), false);
    });

    it('sealed boxes: 96 bytes over the plaintext, 32 random bytes drawn, open only for the recipient and the aad', () => {
      const pt = utf8('{"ip":"10.0.0.1:7575"}');
      const before = new Rng(3);
      const draws: number[] = [];
      const counted = (n: number) => {
        draws.push(n);
        return before.bytes(n);
      };
      const sealed = cc.sealTo(a, b.boxPub, pt, utf8('aad'), counted);
      assert.deepEqual(draws, [32]);
      assert.equal(sealed.length, pt.length + 96);
      const opened = cc.openSealed(b, sealed, utf8('aad'));
      assert.deepEqual(opened?.plaintext, pt);
      assert.deepEqual(opened?.senderBoxPub, a.boxPub);
      assert.equal(cc.openSealed(c, sealed, utf8('aad')), null);
      assert.equal(cc.openSealed(b, sealed, utf8('aae')), null);
      const flipped = sealed.slice();
      flipped[90] ^= 1;
      assert.equal(cc.openSealed(b, flipped, utf8('aad')), null);
      assert.equal(cc.openSealed(b, sealed.subarray(0, 50), utf8('aad')), null);
    });

    it('AEAD: 16 bytes over the plaintext, opens only under its key, nonce and aad', () => {
      const mk = cc.messageKey(kAB, UA);
      assert.equal(mk.length, 32);
      assert.deepEqual(cc.messageKey(kBA, UA), mk);
      assert.notDeepEqual(cc.messageKey(kAB, UB), mk);
      const nonce = random(12);
      const pt = utf8('hello');
      const ct = cc.aeadSeal(mk, nonce, pt, utf8('x'));
      assert.equal(ct.length, pt.length + 16);
      assert.deepEqual(cc.aeadOpen(mk, nonce, ct, utf8('x')), pt);
      assert.equal(cc.aeadOpen(cc.messageKey(kAB, UB), nonce, ct, utf8('x')), null);
      assert.equal(cc.aeadOpen(mk, random(12), ct, utf8('x')), null);
      assert.equal(cc.aeadOpen(mk, nonce, ct, utf8('y')), null);
      assert.equal(cc.aeadOpen(mk, nonce, ct.subarray(0, 10), utf8('x')), null);
    });

    it('digests: sealed under the link and the sender, opened only by the other end of that link', () => {
      const payload = random(50);
      const nonce = random(12);
      const sealed = sealDigest(kAB, UA, UB, payload, nonce, cc);
      assert.equal(sealed.length, sealDigest(kAB, UA, UB, payload, nonce).length, 'same length as the real one');
      assert.equal(cc.digestTransportKey(kAB, UA).length, 32);
      assert.deepEqual(openDigest(kBA, UA, UB, sealed, cc), payload);
      assert.equal(openDigest(kBA, UB, UA, sealed, cc), null, 'not the reverse direction');
      assert.equal(openDigest(kAC, UA, UB, sealed, cc), null);
    });
  });
}
