/**
 * Golden vectors for contact digests (docs/PROTOCOL.md §14.4). Any change here is a wire protocol
 * change: other implementations must reproduce these exact outputs from the same inputs as
 * crypto-vectors.test.ts (seeds A = 0x00..0x3f, B = 0x40..0x7f, link secret 32 × 0x11).
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveLinkKey, deriveUuid, keyPairsFromSeed, toB64u } from '../../src/crypto/index.ts';
import {
  buildDigest,
  contactSecret,
  digestHas,
  memberKey,
  openDigest,
  parseDigest,
  sealDigest,
} from '../../src/protocol/digest.ts';
import {
  directoryEpoch,
  directoryKey,
  openDirectoryRecord,
  sealDirectoryRecord,
} from '../../src/protocol/directory.ts';

const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);
const A = keyPairsFromSeed(seq(0x00, 64));
const B = keyPairsFromSeed(seq(0x40, 64));
const aUuid = deriveUuid(A.signPub, A.boxPub);
const bUuid = deriveUuid(B.signPub, B.boxPub);
const C = '00000000-0000-8000-8000-000000000001';
const NONCE = new Uint8Array(12).fill(0x44);
const link = deriveLinkKey(A.boxPriv, B.boxPub, new Uint8Array(32).fill(0x11), aUuid, bUuid);

const V = {
  contactSecret: '8SAN1YImR5jS0zpYXQxuSksYHTIogYhHW1rXQgC5V6Q',
  memberKey: '7hIVSLk0VKjs0VsXM4idh-gbHo6IF8YwXUmnNzWGDDM',
  payloadHex: '01f1200dd582264798d2d33a585d0c6e4a4b181d32288188475b5ad74200b957a407a019800008080084',
  sealed: 'RERERERERERERERE_zq82SpZM2awWMuckzdOZ_WfgKfPDxWjYbZlxvNl9CKTKt9Bk9srW6Okec_Kc4R1bSuWBLvTZZxOQw',
  epoch: 20454,
  dirKey: 'c2ETsnSWZEMg1znJuw292_7SL8D20bRl8knrfI4flzU',
  dirRecord:
    'VVVVVVVVVVVVVVVV3SFWwl-PgphI4FHUuwjTGaD-xQkDqtWYQMiYtdbkoYKzq9mzrxeh49ZtMtvpQFFipqGutxALXmgQcmCXTSA4sxm9HAkTZqYEKPU_o-_XjNRZNPlZMxSmrU14I-3XGRieA-u795Vd3dwfCFvg9EDyvClW8swbF1hWqoI7R0qqDB1535yGZLYzgHCF20mlGTxARCNA30cYdfwN',
};

describe('contact digest vectors', () => {
  const cs = contactSecret(A);
  const payload = buildDigest(cs, [bUuid, C]);

  it('contact secret and member key of A', () => {
    assert.equal(toB64u(cs), V.contactSecret);
    assert.equal(toB64u(memberKey(cs)), V.memberKey);
  });

  it('digest payload of A over {B, C}: format 1, cs, 7 hashes, 64 filter bits', () => {
    assert.equal(Buffer.from(payload).toString('hex'), V.payloadHex);
    const d = parseDigest(payload)!;
    assert.equal(d.hashes, 7);
    assert.equal(d.bits.length, 8);
    assert.equal(digestHas(d, bUuid), true);
    assert.equal(digestHas(d, C), true);
    assert.equal(digestHas(d, aUuid), false);
  });

  it('sealed A → B with nonce 12 × 0x44; opens only as A → B', () => {
    const sealed = sealDigest(link, aUuid, bUuid, payload, NONCE);
    assert.equal(sealed, V.sealed);
    assert.deepEqual(openDigest(link, aUuid, bUuid, sealed), payload);
    assert.equal(openDigest(link, bUuid, aUuid, sealed), null, 'the reverse direction does not open');
    assert.equal(openDigest(new Uint8Array(32), aUuid, bUuid, sealed), null, 'another link key does not open');
  });

  it('malformed payloads do not parse', () => {
    assert.equal(parseDigest(new Uint8Array(10)), null);
    const bad = payload.slice();
    bad[0] = 2;
    assert.equal(parseDigest(bad), null, 'unknown format');
    const zeroK = payload.slice();
    zeroK[33] = 0;
    assert.equal(parseDigest(zeroK), null, 'no hash functions');
    assert.equal(parseDigest(payload.subarray(0, payload.length - 3)), null, 'filter not a multiple of 8 bytes');
  });
});

describe('directory record vectors (PROTOCOL.md §18.4)', () => {
  const cs = contactSecret(A);
  const TS = 1767225600000;

  it('epoch, blinded key and sealed record of A at 127.0.0.2:7575 (nonce 12 × 0x55)', () => {
    assert.equal(directoryEpoch(TS), V.epoch);
    const key = directoryKey(cs, V.epoch);
    assert.equal(key, V.dirKey);
    const rec = sealDirectoryRecord(cs, A.signPriv, key, '127.0.0.2:7575', TS, new Uint8Array(12).fill(0x55));
    assert.equal(rec, V.dirRecord);
    assert.deepEqual(openDirectoryRecord(cs, A.signPub, key, rec), { ip: '127.0.0.2:7575', ts: TS });
  });

  it('a record does not open under another key, another secret, or with another signer', () => {
    assert.equal(openDirectoryRecord(cs, A.signPub, directoryKey(cs, V.epoch + 1), V.dirRecord), null);
    assert.equal(openDirectoryRecord(contactSecret(B), A.signPub, V.dirKey, V.dirRecord), null);
    assert.equal(openDirectoryRecord(cs, B.signPub, V.dirKey, V.dirRecord), null, 'a contact knowing cs cannot forge');
    // A contact of A knows cs and can seal a record, but cannot sign it as A.
    const forged = sealDirectoryRecord(cs, B.signPriv, V.dirKey, '10.9.9.9:7575', TS, new Uint8Array(12).fill(1));
    assert.equal(openDirectoryRecord(cs, A.signPub, V.dirKey, forged), null);
  });
});
