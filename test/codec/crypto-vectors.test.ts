/**
 * Golden vectors for the Mesh crypto module (docs/vectors/crypto.md). Any change here is a wire
 * protocol change: other implementations must reproduce these exact outputs.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import {
  aeadOpen,
  aeadSeal,
  authPhrase,
  computeProof,
  decodeInvite,
  deriveLinkKey,
  deriveUuid,
  encodeInvite,
  fromB64u,
  inviteId,
  inviteKey,
  keyPairsFromSeed,
  messageKey,
  openSealed,
  requestSigningInput,
  responseSigningInput,
  sealTo,
  signEd25519,
  toB64u,
  utf8,
  x25519,
} from '../../src/crypto/index.ts';

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const unhex = (s: string) => new Uint8Array(Buffer.from(s, 'hex'));
const seq = (start: number, n: number) => Uint8Array.from({ length: n }, (_, i) => start + i);

// Inputs
const A = keyPairsFromSeed(seq(0x00, 64));
const B = keyPairsFromSeed(seq(0x40, 64));
const SECRET = new Uint8Array(32).fill(0x11);
const INVITE_SECRET = new Uint8Array(16).fill(0x22);
const EPH = (n: number) => new Uint8Array(n).fill(0x33);
const ID = 'AAAAAAAAAAAAAAAAAAAAAA';
const TS = 1767225600000;
const PORT = 7575;
const BODY = utf8('{"referent":"x","hops":1}');

// Expected outputs
const V = {
  aSignPub: '03a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8',
  aBoxPub: '358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254',
  aUuid: '3619e750-a2dd-82ba-9788-07b2a00df56d',
  bSignPub: '2543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d',
  bBoxPub: '675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f',
  bUuid: 'ce04d757-588b-807d-b7dd-1e31c428b180',
  linkKey: 'pqbfugHL4TfqYcFVDyolih6rkz8GhveRwqAht4EOAus',
  requestInput:
    'mesh-v1-req\n1\nreferral\n3619e750-a2dd-82ba-9788-07b2a00df56d\nAAAAAAAAAAAAAAAAAAAAAA\n1767225600000\n7575\ncgAwV5dafWeS6OqD2vId_kKpd1ZgPckWbijG4U-ZYyY',
  requestProof: 'DLhRelTKBQMz5JDq6R25w4rEMxJjLQ9rlK0pc2Uy6Q0',
  responseProof: 'hf5i-OfAXelKqLoT_ROPbMFFP6s2umjv8dIiPsYMYBU',
  messageKeyA: 'olvBQ8B8VXPd-yRKiO6OdfLDEJCCsN1XxcbuHEVOomo',
  messageKeyB: 'QsbhXpEyWBvwQgCgBwOs5zvEfHairLxK-BW-l28M_6w',
  sealed:
    'ew1H2TQn-DERYHgcfHM_2J-IlwrvSQ2KoO4ZpMuKGxS5J5TU5yYXtq1P76TWaqr_ohHCODUNjVVoth_i-2W4VEV0DatQZZZTr0A3aZ7cLnBGWrmnSDQvwcshVvzbrHhSykXT2Sbdic09gb2w8POoh20HldH6hYY',
  authPhrase: 'fossil dolphin magnet joker cousin jacket',
  inviteId: 'PcMPushBf3Y',
  inviteKey: 'rPcphpMr5pDp-75LcsMoAJC3S7DjgbSdd-hOuHVYQxQ',
  invite: 'mesh1-ATYZ51Ci3YK6l4gHsqAN9W0iIiIiIiIiIiIiIiIiIiIiaVcKgAEEfwAAAh2X',
};

describe('crypto golden vectors: primitives against RFC test vectors', () => {
  it('RFC 8032 §7.1 test 1 (Ed25519 keygen + sign) and RFC 7748 §6.1 (X25519)', () => {
    const seed = new Uint8Array([
      ...unhex('9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60'),
      ...unhex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'),
    ]);
    const k = keyPairsFromSeed(seed);
    assert.equal(hex(k.signPub), 'd75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a');
    assert.equal(
      hex(signEd25519(k.signPriv, new Uint8Array(0))),
      'e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b',
    );
    assert.equal(hex(k.boxPub), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
    const bobPub = unhex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
    assert.equal(hex(x25519(k.boxPriv, bobPub)), '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742');
  });

  it('RFC 8439 §2.8.2 (ChaCha20-Poly1305)', () => {
    const key = unhex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
    const nonce = unhex('070000004041424344454647');
    const aad = unhex('50515253c0c1c2c3c4c5c6c7');
    const pt = utf8(
      "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.",
    );
    const sealed = aeadSeal(key, nonce, pt, aad);
    assert.equal(hex(sealed.subarray(0, 16)), 'd31a8d34648e60db7b86afbc53ef7ec2');
    assert.equal(hex(sealed.subarray(sealed.length - 16)), '1ae10b594f09e26a7e902ecbd0600691');
    assert.deepEqual(aeadOpen(key, nonce, sealed, aad), pt);
  });
});

describe('crypto golden vectors: Mesh constructions', () => {
  const uA = deriveUuid(A.signPub, A.boxPub);
  const uB = deriveUuid(B.signPub, B.boxPub);
  const link = deriveLinkKey(A.boxPriv, B.boxPub, SECRET, uA, uB);

  it('key pairs and uuids', () => {
    assert.equal(hex(A.signPub), V.aSignPub);
    assert.equal(hex(A.boxPub), V.aBoxPub);
    assert.equal(uA, V.aUuid);
    assert.equal(hex(B.signPub), V.bSignPub);
    assert.equal(hex(B.boxPub), V.bBoxPub);
    assert.equal(uB, V.bUuid);
  });

  it('link key (both directions)', () => {
    assert.equal(toB64u(link), V.linkKey);
    assert.equal(toB64u(deriveLinkKey(B.boxPriv, A.boxPub, SECRET, uB, uA)), V.linkKey);
  });

  it('request proof (Mesh-Secret) for a referral from A', () => {
    const input = requestSigningInput({
      version: 1,
      type: 'referral',
      from: uA,
      id: ID,
      ts: TS,
      port: PORT,
      body: BODY,
    });
    assert.equal(Buffer.from(input).toString('utf8'), V.requestInput);
    assert.equal(computeProof(link, input), V.requestProof);
  });

  it('response proof', () => {
    assert.equal(computeProof(link, responseSigningInput(ID, '127.0.0.2:7575', '{"ok":true}')), V.responseProof);
  });

  it('message keys', () => {
    assert.equal(toB64u(messageKey(link, uA)), V.messageKeyA);
    assert.equal(toB64u(messageKey(link, uB)), V.messageKeyB);
  });

  it('sealed payload A → B', () => {
    const pt = utf8('{"ip":"127.0.0.2:7575"}');
    const sealed = sealTo(A, B.boxPub, pt, utf8('IP'), EPH);
    assert.equal(toB64u(sealed), V.sealed);
    const opened = openSealed(B, fromB64u(V.sealed), utf8('IP'));
    assert.ok(opened);
    assert.deepEqual(opened.plaintext, pt);
    assert.deepEqual(opened.senderBoxPub, A.boxPub);
  });

  it('auth phrase', () => {
    assert.equal(authPhrase(A, B, SECRET), V.authPhrase);
    assert.equal(authPhrase(B, A, SECRET), V.authPhrase);
  });

  it('invite id, key and code', () => {
    assert.equal(inviteId(INVITE_SECRET), V.inviteId);
    assert.equal(toB64u(inviteKey(INVITE_SECRET)), V.inviteKey);
    const c = {
      uuid: uA,
      secret: INVITE_SECRET,
      expiresAt: 1767312000000,
      addresses: ['127.0.0.2:7575'],
      domain: null,
    };
    assert.equal(encodeInvite(c), V.invite);
    assert.deepEqual(decodeInvite(V.invite), c);
  });
});
