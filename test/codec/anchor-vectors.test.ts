/**
 * Golden vectors for the move-anchor order (docs/PROTOCOL.md §8 "Move anchors"). A searcher and the
 * mover must compute the same order, so this is wire behaviour: other implementations must reproduce
 * these values (computed independently with Python's hashlib) from A and B of crypto-vectors.test.ts.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveUuid, keyPairsFromSeed } from '../../src/crypto/index.ts';
import { anchorScore, byAnchorRank } from '../../src/protocol/anchors.ts';

const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);
const A = keyPairsFromSeed(seq(0x00, 64));
const B = keyPairsFromSeed(seq(0x40, 64));
const aUuid = deriveUuid(A.signPub, A.boxPub);
const bUuid = deriveUuid(B.signPub, B.boxPub);
const C = '00000000-0000-8000-8000-000000000001';

describe('move anchors (PROTOCOL.md §8)', () => {
  it('scores are u32be of SHA-256("mesh-v1-anchor|" + mover + "|" + contact)', () => {
    assert.equal(aUuid, '3619e750-a2dd-82ba-9788-07b2a00df56d');
    assert.equal(anchorScore(aUuid, bUuid), 1_667_745_005);
    assert.equal(anchorScore(aUuid, C), 3_244_892_140);
    // Not symmetric: the mover's UUID comes first.
    assert.equal(anchorScore(bUuid, aUuid), 1_385_534_013);
  });

  it('the order is highest score first, whatever the input order', () => {
    const order = (list: { uuid: string }[]) => byAnchorRank(aUuid, list).map((c) => c.uuid);
    assert.deepEqual(order([{ uuid: bUuid }, { uuid: C }]), [C, bUuid]);
    assert.deepEqual(order([{ uuid: C }, { uuid: bUuid }]), [C, bUuid]);
  });
});
