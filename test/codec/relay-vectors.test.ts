/**
 * docs/PROTOCOL.md §16.6 test vectors: the packed relayed request and answer, their seals (A → B
 * and B → A with the §11 seeds and ephemeral 32 × 0x33), and the relay body's decoding bounds.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { deriveUuid, fromB64u, keyPairsFromSeed, openSealed, sealTo, toB64u, utf8 } from '../../src/crypto/index.ts';
import { decodeBody, encodeJson } from '../../src/protocol/codec.ts';
import { packAnswer, packRequest, relayAad, relayAnswerAad, unpackRequest } from '../../src/protocol/handlers/path.ts';
import { isPrivateAddress } from '../../src/util/address.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);
const A = keyPairsFromSeed(seq(0x00, 64));
const B = keyPairsFromSeed(seq(0x40, 64));
const UA = deriveUuid(A.signPub, A.boxPub);
const UB = deriveUuid(B.signPub, B.boxPub);
const EPH = (n: number) => new Uint8Array(n).fill(0x33);
const HEADERS = { 'mesh-version': '1', 'mesh-type': 'referral', 'mesh-from': UA };
const BODY = utf8('{"referent":"x","hops":0}');

const PACKED =
  '005e7b226d6573682d76657273696f6e223a2231222c226d6573682d74797065223a22726566657272616c222c226d6573682d66726f6d223a2233363139653735302d613264642d383262612d393738382d303762326130306466353664227d7b227265666572656e74223a2278222c22686f7073223a307d';
const SEALED =
  'ew1H2TQn-DERYHgcfHM_2J-IlwrvSQ2KoO4ZpMuKGxS5J5TU5yYXtq1P76TWaqr_ohHCODUNjVVoth_i-2W4VEV0DatQZZZTr0A3aZ7cLnA9Jqv1B2t-mNRgHb6G9TkO0kjE3zHT1nuBR0KMDF2spazEg8OkW1mt2f3iC6zfbkiU7WPnlZhdPBPBnFbTWYEVboSjlmPLyOZ2J0hlw3zSsxfbKF7xiW-wKlZvlFdfniJkk4PIvcNUGG0zo6uK4e7o40C_TXhMtJeO4ht_ghgcKQmlR5daOgijJA';
const ANSWER = '00c87b226f62736572766564223a223139382e31382e302e31313a37353735227d';
const SEALED_ANSWER =
  'ew1H2TQn-DERYHgcfHM_2J-IlwrvSQ2KoO4ZpMuKGxS8E6Q_UOytiqU_oBHa5OIhAwIUml5lBGNamF6GdPXIGZYbj2maoV_7L1uUP3K5sIdfw26XqJiEEI7frtaRbrkMxGyXDdeyPnpQaho9ShHF0w9SyTt5KIMRt687sAHgaxTJ';

describe('§16.6 relay vectors', () => {
  it('packs the inner request and seals it A → B', () => {
    const p = packRequest(HEADERS, BODY);
    assert.equal(hex(p), PACKED);
    assert.equal(toB64u(sealTo(A, B.boxPub, p, relayAad(UA, UB), EPH)), SEALED);
    const opened = openSealed(B, fromB64u(SEALED), relayAad(UA, UB));
    assert.ok(opened);
    assert.equal(hex(opened.senderBoxPub), hex(A.boxPub));
    const back = unpackRequest(opened.plaintext);
    assert.deepEqual({ ...back?.headers }, HEADERS);
    assert.equal(hex(back?.body ?? new Uint8Array()), hex(BODY));
    // The aad names both ends: the same seal does not open as a request from B, or for another target.
    assert.equal(openSealed(B, fromB64u(SEALED), relayAad(UB, UA)), null);
  });

  it('packs the answer and seals it B → A', () => {
    const a = packAnswer(200, utf8('{"observed":"198.18.0.11:7575"}'));
    assert.equal(hex(a), ANSWER);
    assert.equal(toB64u(sealTo(B, A.boxPub, a, relayAnswerAad(UA, UB), EPH)), SEALED_ANSWER);
  });

  it('rejects malformed packed requests', () => {
    for (const bad of ['', '00', 'ffff7b7d', '0004226122', '00075b2261225d']) {
      assert.equal(unpackRequest(Uint8Array.from(Buffer.from(bad, 'hex'))), null, bad);
    }
    assert.equal(unpackRequest(Uint8Array.from(Buffer.from('00097b2261223a317d', 'hex'))), null, 'non-string header');
  });

  it('decodes relay and introduce bodies with bounds', () => {
    const ok = decodeBody('relay', encodeJson({ from: UA, to: UB, sealed: SEALED }));
    assert.ok(ok.ok);
    for (const body of [
      { from: 'x', to: UB, sealed: SEALED },
      { from: UA, to: UB },
      { from: UA, to: UB, sealed: 'not base64url!' },
    ]) {
      const r = decodeBody('relay', encodeJson(body));
      assert.equal(r.ok, false);
      if (!r.ok) assert.equal(r.code, 'BAD_REQUEST');
    }
    assert.ok(decodeBody('introduce', encodeJson({ invite: 'PcMPushBf3Y', expiresAt: 1767312000000 })).ok);
    assert.equal(decodeBody('introduce', encodeJson({ invite: 'short', expiresAt: 1 })).ok, false);
    assert.equal(decodeBody('introduce', encodeJson({ invite: 'PcMPushBf3Y', expiresAt: -1 })).ok, false);
  });

  it('private addresses (the introducer rule until reachability is known)', () => {
    const table: [string, boolean][] = [
      ['10.77.1.10:7575', true],
      ['172.16.0.1:7575', true],
      ['172.32.0.1:7575', false],
      ['192.168.1.2:7575', true],
      ['100.64.0.1:7575', true],
      ['198.18.0.11:7575', false],
      ['127.0.0.2:7575', false],
      ['[fd00::1]:7575', true],
      ['[2001:db8::1]:7575', false],
    ];
    for (const [a, want] of table) assert.equal(isPrivateAddress(a), want, a);
  });
});
