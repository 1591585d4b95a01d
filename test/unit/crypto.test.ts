import assert from 'node:assert/strict';
import { hkdfSync, randomBytes } from 'node:crypto';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { AUTH_PHRASE_WORDS } from '../../src/crypto/auth-phrase.ts';
import {
  aeadOpen,
  aeadSeal,
  authPhrase,
  checkProof,
  checkUuid,
  computeProof,
  decodeInvite,
  deriveLinkKey,
  deriveUuid,
  encodeInvite,
  fromB64u,
  generateKeyPairs,
  hkdf,
  type InviteCode,
  inviteId,
  inviteKey,
  isUuid,
  type KeyPairs,
  keyPairsFromSeed,
  messageKey,
  openSealed,
  requestSigningInput,
  responseSigningInput,
  sealTo,
  signEd25519,
  toB64u,
  utf8,
  verifyEd25519,
  WORDS,
} from '../../src/crypto/index.ts';
import { MeshError } from '../../src/errors.ts';

const rnd = (n: number) => new Uint8Array(randomBytes(n));
const flip = (b: Uint8Array, i = 0): Uint8Array => {
  const c = b.slice();
  c[i % c.length] ^= 1;
  return c;
};
const isBadInvite = (e: unknown) => e instanceof MeshError && e.code === 'BAD_INVITE';
const isInvalidArg = (e: unknown) => e instanceof MeshError && e.code === 'INVALID_ARGUMENT';

const A = generateKeyPairs(rnd);
const B = generateKeyPairs(rnd);
const C = generateKeyPairs(rnd);
const uA = deriveUuid(A.signPub, A.boxPub);
const uB = deriveUuid(B.signPub, B.boxPub);
const secret = rnd(32);

describe('b64u', () => {
  it('round trips and rejects bad input', () => {
    assert.equal(toB64u(new Uint8Array([0xfb, 0xff])), '-_8');
    assert.deepEqual(fromB64u('-_8'), new Uint8Array([0xfb, 0xff]));
    assert.deepEqual(fromB64u(''), new Uint8Array(0));
    for (const bad of ['a', 'abcde', 'ab+c', 'ab/c', 'ab==', 'a b', 'é']) {
      assert.throws(() => fromB64u(bad), isInvalidArg, bad);
    }
  });
  it('property: fromB64u(toB64u(x)) = x', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        const s = toB64u(b);
        assert.match(s, /^[A-Za-z0-9_-]*$/);
        assert.deepEqual(fromB64u(s), b);
      }),
    );
  });
});

describe('keys and uuids', () => {
  it('keyPairsFromSeed is deterministic and 32-byte', () => {
    const seed = rnd(64);
    const k1 = keyPairsFromSeed(seed);
    const k2 = keyPairsFromSeed(seed.slice());
    assert.deepEqual(k1, k2);
    for (const k of [k1.signPub, k1.signPriv, k1.boxPub, k1.boxPriv]) assert.equal(k.length, 32);
    assert.deepEqual(k1.signPriv, seed.subarray(0, 32));
    assert.deepEqual(k1.boxPriv, seed.subarray(32));
    assert.throws(() => keyPairsFromSeed(rnd(32)), isInvalidArg);
  });

  it('uuid is a v8 RFC-variant lower-case uuid', () => {
    assert.match(uA, /^[0-9a-f]{8}-[0-9a-f]{4}-8[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    assert.notEqual(uA, uB);
  });

  const uuidTable: [string, () => boolean, boolean][] = [
    ['own keys', () => checkUuid(uA, A.signPub, A.boxPub), true],
    ['tampered signPub', () => checkUuid(uA, flip(A.signPub), A.boxPub), false],
    ['tampered boxPub', () => checkUuid(uA, A.signPub, flip(A.boxPub, 31)), false],
    ['other node keys', () => checkUuid(uA, B.signPub, B.boxPub), false],
    ['not a uuid', () => checkUuid('nope', A.signPub, A.boxPub), false],
    [
      'upper case (uuids are lower-case, PROTOCOL.md §6.1)',
      () => checkUuid(uA.toUpperCase(), A.signPub, A.boxPub),
      false,
    ],
    ['wrong key length', () => checkUuid(uA, A.signPub.subarray(1), A.boxPub), false],
  ];
  for (const [name, fn, want] of uuidTable) it(`checkUuid: ${name} → ${want}`, () => assert.equal(fn(), want));

  const isUuidTable: [string, boolean][] = [
    [uA, true],
    // Lower-case only, as docs/PROTOCOL.md §6.1 fixes for the wire (one rule for every uuid check).
    [uA.toUpperCase(), false],
    ['00000000-0000-0000-0000-000000000000', true],
    ['0000000-0000-0000-0000-000000000000', false],
    ['00000000-0000-0000-0000-00000000000g', false],
    ['000000000000000000000000000000000000', false],
    [` ${uA}`, false],
  ];
  for (const [s, want] of isUuidTable)
    it(`isUuid(${JSON.stringify(s)}) → ${want}`, () => assert.equal(isUuid(s), want));
});

describe('Ed25519', () => {
  const data = utf8('hello mesh');
  const sig = signEd25519(A.signPriv, data);
  const table: [string, () => boolean, boolean][] = [
    ['valid', () => verifyEd25519(A.signPub, data, sig), true],
    ['tampered data', () => verifyEd25519(A.signPub, flip(data), sig), false],
    ['tampered sig', () => verifyEd25519(A.signPub, data, flip(sig, 5)), false],
    ['wrong key', () => verifyEd25519(B.signPub, data, sig), false],
    ['short sig', () => verifyEd25519(A.signPub, data, sig.subarray(1)), false],
    ['short key', () => verifyEd25519(A.signPub.subarray(1), data, sig), false],
    ['empty sig', () => verifyEd25519(A.signPub, data, new Uint8Array(0)), false],
  ];
  for (const [name, fn, want] of table) it(`${name} → ${want}`, () => assert.equal(fn(), want));
  it('signature is 64 bytes', () => assert.equal(sig.length, 64));
});

describe('link key and proofs', () => {
  const kAB = deriveLinkKey(A.boxPriv, B.boxPub, secret, uA, uB);
  it('is symmetric and 32 bytes', () => {
    assert.equal(kAB.length, 32);
    assert.deepEqual(deriveLinkKey(B.boxPriv, A.boxPub, secret, uB, uA), kAB);
  });
  it('depends on secret and peer', () => {
    assert.notDeepEqual(deriveLinkKey(A.boxPriv, B.boxPub, flip(secret), uA, uB), kAB);
    assert.notDeepEqual(deriveLinkKey(A.boxPriv, C.boxPub, secret, uA, uB), kAB);
  });
  it('rejects an all-zero DH (low-order point)', () => {
    assert.throws(() => deriveLinkKey(A.boxPriv, new Uint8Array(32), secret, uA, uB), isInvalidArg);
  });
  it('messageKey is directional', () => {
    const mA = messageKey(kAB, uA);
    assert.equal(mA.length, 32);
    assert.notDeepEqual(mA, messageKey(kAB, uB));
    assert.deepEqual(mA, messageKey(deriveLinkKey(B.boxPriv, A.boxPub, secret, uB, uA), uA));
  });

  const base = {
    version: 1,
    type: 'referral',
    from: uA,
    id: 'AAAAAAAAAAAAAAAAAAAAAA',
    ts: 1767225600000,
    port: 7575 as number | null,
    body: utf8('{"x":1}'),
  };
  const proof = computeProof(kAB, requestSigningInput(base));
  const variants: [string, Partial<typeof base>][] = [
    ['body', { body: utf8('{"x":2}') }],
    ['type', { type: 'message' }],
    ['ts', { ts: base.ts + 1 }],
    ['id', { id: 'AAAAAAAAAAAAAAAAAAAAAB' }],
    ['from', { from: uB }],
    ['port', { port: null }],
    ['version', { version: 2 }],
  ];
  it('request proof checks', () => {
    assert.equal(proof.length, 43);
    assert.equal(checkProof(kAB, requestSigningInput(base), proof), true);
  });
  for (const [name, change] of variants) {
    it(`request proof fails when ${name} changes`, () => {
      assert.equal(checkProof(kAB, requestSigningInput({ ...base, ...change }), proof), false);
    });
  }
  const badProofs: [string, string][] = [
    ['empty', ''],
    ['short', proof.slice(1)],
    ['long', `${proof}A`],
    ['bad char', `${proof.slice(0, 42)}+`],
    ['other', computeProof(kAB, utf8('x'))],
  ];
  for (const [name, p] of badProofs) {
    it(`checkProof false for ${name} proof`, () => assert.equal(checkProof(kAB, requestSigningInput(base), p), false));
  }
  it('wrong link key fails', () => {
    assert.equal(checkProof(flip(kAB), requestSigningInput(base), proof), false);
  });
  it('response proof binds id, observed and data', () => {
    const p = computeProof(kAB, responseSigningInput('id1', '1.2.3.4:5', 'data'));
    assert.equal(checkProof(kAB, responseSigningInput('id1', '1.2.3.4:5', 'data'), p), true);
    assert.equal(checkProof(kAB, responseSigningInput('id2', '1.2.3.4:5', 'data'), p), false);
    assert.equal(checkProof(kAB, responseSigningInput('id1', '1.2.3.4:6', 'data'), p), false);
    assert.equal(checkProof(kAB, responseSigningInput('id1', '1.2.3.4:5', 'datb'), p), false);
  });
  it('port null signs as empty line', () => {
    const s = Buffer.from(requestSigningInput({ ...base, port: null })).toString();
    assert.match(s, /\n1767225600000\n\n/);
  });
});

describe('AEAD', () => {
  const key = rnd(32);
  const nonce = rnd(12);
  const aad = utf8('aad');
  const pt = utf8('secret text');
  const sealed = aeadSeal(key, nonce, pt, aad);
  it('round trips', () => {
    assert.equal(sealed.length, pt.length + 16);
    assert.deepEqual(aeadOpen(key, nonce, sealed, aad), pt);
    assert.deepEqual(
      aeadOpen(key, nonce, aeadSeal(key, nonce, new Uint8Array(0), new Uint8Array(0)), new Uint8Array(0)),
      new Uint8Array(0),
    );
  });
  const table: [string, () => Uint8Array | null][] = [
    ['tampered ciphertext', () => aeadOpen(key, nonce, flip(sealed, 0), aad)],
    ['tampered tag', () => aeadOpen(key, nonce, flip(sealed, sealed.length - 1), aad)],
    ['tampered aad', () => aeadOpen(key, nonce, sealed, utf8('aae'))],
    ['missing aad', () => aeadOpen(key, nonce, sealed, new Uint8Array(0))],
    ['wrong key', () => aeadOpen(flip(key), nonce, sealed, aad)],
    ['wrong nonce', () => aeadOpen(key, flip(nonce), sealed, aad)],
    ['short input', () => aeadOpen(key, nonce, sealed.subarray(0, 15), aad)],
    ['truncated', () => aeadOpen(key, nonce, sealed.subarray(1), aad)],
    ['bad key length', () => aeadOpen(key.subarray(1), nonce, sealed, aad)],
    ['bad nonce length', () => aeadOpen(key, nonce.subarray(1), sealed, aad)],
  ];
  for (const [name, fn] of table) it(`${name} → null`, () => assert.equal(fn(), null));
  it('property: any single bit flip is rejected', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        fc.uint8Array({ minLength: 12, maxLength: 12 }),
        fc.uint8Array({ maxLength: 100 }),
        fc.uint8Array({ maxLength: 20 }),
        fc.nat(),
        fc.integer({ min: 0, max: 7 }),
        (k, n, p, a, pos, bit) => {
          const s = aeadSeal(k, n, p, a);
          assert.deepEqual(aeadOpen(k, n, s, a), p);
          const t = s.slice();
          t[pos % t.length] ^= 1 << bit;
          assert.equal(aeadOpen(k, n, t, a), null);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('sealTo / openSealed', () => {
  const pt = utf8('{"ip":"127.0.0.2:7575"}');
  const aad = utf8('IP');
  const sealed = sealTo(A, B.boxPub, pt, aad, rnd);
  it('round trips and returns the sender', () => {
    assert.equal(sealed.length, 32 + 48 + pt.length + 16);
    const r = openSealed(B, sealed, aad);
    assert.ok(r);
    assert.deepEqual(r.plaintext, pt);
    assert.deepEqual(r.senderBoxPub, A.boxPub);
  });
  it('is randomised by the ephemeral key', () => assert.notDeepEqual(sealTo(A, B.boxPub, pt, aad, rnd), sealed));
  it('sender C is reported as C', () => {
    const r = openSealed(B, sealTo(C, B.boxPub, pt, aad, rnd), aad);
    assert.deepEqual(r?.senderBoxPub, C.boxPub);
  });
  const table: [string, () => unknown][] = [
    ['wrong recipient', () => openSealed(C, sealed, aad)],
    ['tampered ephPub', () => openSealed(B, flip(sealed, 3), aad)],
    ['tampered sender part', () => openSealed(B, flip(sealed, 40), aad)],
    ['tampered sender tag', () => openSealed(B, flip(sealed, 79), aad)],
    ['tampered ciphertext', () => openSealed(B, flip(sealed, 85), aad)],
    ['tampered tag', () => openSealed(B, flip(sealed, sealed.length - 1), aad)],
    ['tampered aad', () => openSealed(B, sealed, utf8('IQ'))],
    ['short', () => openSealed(B, sealed.subarray(0, 95), aad)],
    ['empty', () => openSealed(B, new Uint8Array(0), aad)],
    ['zero ephPub', () => openSealed(B, new Uint8Array([...new Uint8Array(32), ...sealed.subarray(32)]), aad)],
    [
      'sender part swapped for another sender',
      () => {
        const other = sealTo(C, B.boxPub, pt, aad, rnd);
        return openSealed(B, new Uint8Array([...other.subarray(0, 80), ...sealed.subarray(80)]), aad);
      },
    ],
  ];
  for (const [name, fn] of table) it(`${name} → null`, () => assert.equal(fn(), null));
});

describe('auth phrase', () => {
  const p = authPhrase(A, B, secret);
  it('has AUTH_PHRASE_WORDS words from WORDS, single-spaced', () => {
    const words = p.split(' ');
    assert.equal(words.length, AUTH_PHRASE_WORDS);
    for (const w of words) assert.ok(WORDS.includes(w));
  });
  it('is symmetric', () => assert.equal(authPhrase(B, A, secret), p));
  const changes: [string, () => string][] = [
    ['a.signPub', () => authPhrase({ ...A, signPub: flip(A.signPub) }, B, secret)],
    ['a.boxPub', () => authPhrase({ ...A, boxPub: flip(A.boxPub) }, B, secret)],
    ['b.signPub', () => authPhrase(A, { ...B, signPub: flip(B.signPub, 9) }, secret)],
    ['b.boxPub', () => authPhrase(A, { ...B, boxPub: flip(B.boxPub, 31) }, secret)],
    ['secret', () => authPhrase(A, B, flip(secret))],
    ['peer', () => authPhrase(A, C, secret)],
  ];
  for (const [name, fn] of changes) it(`changes when ${name} changes`, () => assert.notEqual(fn(), p));
  it('WORDS: 256 unique lower-case words of 3-7 letters', () => {
    assert.equal(WORDS.length, 256);
    assert.equal(new Set(WORDS).size, 256);
    for (const w of WORDS) assert.match(w, /^[a-z]{3,7}$/);
  });
});

describe('invites', () => {
  const uuid = uA;
  const s16 = rnd(16);
  const base: InviteCode = { uuid, secret: s16, expiresAt: 1767312000000, addresses: ['127.0.0.2:7575'], domain: null };
  it('inviteId and inviteKey', () => {
    assert.match(inviteId(s16), /^[A-Za-z0-9_-]{11}$/);
    assert.equal(inviteKey(s16).length, 32);
    assert.notDeepEqual(inviteKey(s16), inviteKey(flip(s16)));
  });
  const roundTrips: [string, Partial<InviteCode>][] = [
    ['ipv4', {}],
    ['no addresses', { addresses: [] }],
    ['ipv6', { addresses: ['[2001:db8::1]:7575', '[::1]:1', '[::]:0', '[fe80::1:2:3:4:5]:65535'] }],
    ['full ipv6', { addresses: ['[2001:db8:1:2:3:4:5:6]:443'] }],
    ['hostname', { addresses: ['mesh.example.org:7575', 'localhost:80'] }],
    ['mixed + domain', { addresses: ['10.0.0.1:1', '[2001:db8::2]:2', 'a.b:3'], domain: 'alice.example.com' }],
    ['unicode host', { addresses: ['bücher.example:7575'], domain: 'bücher.example' }],
  ];
  for (const [name, change] of roundTrips) {
    it(`round trips: ${name}`, () => {
      const c = { ...base, ...change };
      const code = encodeInvite(c);
      assert.match(code, /^mesh1-[A-Za-z0-9_-]+$/);
      assert.deepEqual(decodeInvite(code), c);
    });
  }
  it('is short', () => assert.ok(encodeInvite(base).length < 70));
  it('normalises ipv6 to RFC 5952 form', () => {
    const code = encodeInvite({ ...base, addresses: ['[2001:DB8:0:0:0:0:0:1]:7575', '[::ffff:1.2.3.4]:1'] });
    assert.deepEqual(decodeInvite(code).addresses, ['[2001:db8::1]:7575', '[::ffff:102:304]:1']);
  });
  it('drops sub-second expiry precision (rounds down)', () => {
    assert.equal(decodeInvite(encodeInvite({ ...base, expiresAt: 1767312000999 })).expiresAt, 1767312000000);
  });
  const code = encodeInvite(base);
  const wrappers: [string, string][] = [
    ['whitespace', `  ${code}\n`],
    ['https link', `https://mesh.example/join#${code}`],
    ['mesh uri', `mesh:${code}`],
    ['mesh:// uri', `mesh://${code}`],
  ];
  for (const [name, s] of wrappers) it(`accepts ${name}`, () => assert.deepEqual(decodeInvite(s), base));

  const body = code.slice('mesh1-'.length);
  const raw = fromB64u(body);
  const withBytes = (f: (b: Uint8Array) => Uint8Array) => `mesh1-${toB64u(f(raw.slice()))}`;
  const setByte = (i: number, f: (x: number) => number) =>
    withBytes((b) => {
      b[i] = f(b[i]);
      return b;
    });
  const malformed: [string, string][] = [
    ['empty', ''],
    ['wrong prefix', `mesh2-${body}`],
    ['no prefix', body],
    ['bad chars', `mesh1-${body.slice(0, 10)}+${body.slice(11)}`],
    ['impossible length', `mesh1-${body}A`.slice(0, 6 + 4 * 5 + 1)],
    ['truncated', withBytes((b) => b.subarray(0, 40))],
    ['truncated address', withBytes((b) => b.subarray(0, b.length - 1))],
    ['version 2', setByte(0, () => 2)],
    ['uuid version not 8', setByte(7, (x) => (x & 0x0f) | 0x40)],
    ['uuid variant not RFC', setByte(9, (x) => x & 0x3f)],
    ['unknown address type', setByte(38, () => 5)],
    ['address count too high', setByte(37, () => 2)],
    ['empty domain', withBytes((b) => new Uint8Array([...b, 0]))],
    ['domain length past end', withBytes((b) => new Uint8Array([...b, 5, 0x61]))],
    ['trailing bytes after domain', withBytes((b) => new Uint8Array([...b, 1, 0x61, 0x62]))],
    ['bad utf-8 domain', withBytes((b) => new Uint8Array([...b, 2, 0xc3, 0x28]))],
    ['domain with colon', withBytes((b) => new Uint8Array([...b, 3, 0x61, 0x3a, 0x62]))],
  ];
  for (const [name, s] of malformed) {
    it(`rejects ${name} with BAD_INVITE`, () => assert.throws(() => decodeInvite(s), isBadInvite));
  }
  const badEncodes: [string, Partial<InviteCode>][] = [
    ['bad uuid', { uuid: 'x' }],
    ['non-v8 uuid', { uuid: '00000000-0000-4000-8000-000000000000' }],
    ['short secret', { secret: rnd(15) }],
    ['negative expiry', { expiresAt: -1000 }],
    ['expiry past 2106', { expiresAt: 2 ** 32 * 1000 }],
    ['no port', { addresses: ['1.2.3.4'] }],
    ['port too big', { addresses: ['1.2.3.4:65536'] }],
    ['bad ipv6', { addresses: ['[1::2::3]:1'] }],
    ['bad host', { addresses: ['a b:1'] }],
    ['empty domain', { domain: '' }],
  ];
  for (const [name, change] of badEncodes) {
    it(`encodeInvite rejects ${name}`, () => assert.throws(() => encodeInvite({ ...base, ...change }), isInvalidArg));
  }

  it('property: decode(encode(x)) = x', () => {
    const hex = (n: number) => fc.uint8Array({ minLength: n, maxLength: n });
    const uuidArb = hex(16).map((b) => {
      b[6] = (b[6] & 0x0f) | 0x80;
      b[8] = (b[8] & 0x3f) | 0x80;
      const x = Buffer.from(b).toString('hex');
      return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
    });
    const port = fc.integer({ min: 0, max: 65535 });
    const v4 = fc.tuple(hex(4), port).map(([b, p]) => `${Array.from(b).join('.')}:${p}`);
    const v6 = fc.tuple(hex(16), port).map(([b, p]) => {
      const code = encodeInvite({
        ...base,
        addresses: [
          `[${Array.from({ length: 8 }, (_, i) => ((b[2 * i] << 8) | b[2 * i + 1]).toString(16)).join(':')}]:${p}`,
        ],
      });
      return decodeInvite(code).addresses[0];
    });
    const label = fc.stringMatching(/^[a-z0-9](?:[a-z0-9-]{0,10}[a-z0-9])?$/);
    const hostName = fc
      .array(label, { minLength: 1, maxLength: 4 })
      .map((ls) => ls.join('.'))
      .filter((h) => !/^[0-9.]+$/.test(h));
    const host = fc.tuple(hostName, port).map(([h, p]) => `${h}:${p}`);
    const arb = fc.record({
      uuid: uuidArb,
      secret: hex(16),
      expiresAt: fc.integer({ min: 0, max: 0xffffffff }).map((s) => s * 1000),
      addresses: fc.array(fc.oneof(v4, v6, host), { maxLength: 6 }),
      domain: fc.option(hostName, { nil: null }),
    });
    fc.assert(
      fc.property(arb, (c) => {
        assert.deepEqual(decodeInvite(encodeInvite(c)), { ...c });
      }),
    );
  });
  it('property: random junk never throws anything but BAD_INVITE', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), (b) => {
        try {
          decodeInvite(`mesh1-${toB64u(b)}`);
        } catch (e) {
          assert.ok(isBadInvite(e), String(e));
        }
      }),
    );
    fc.assert(
      fc.property(fc.string(), (s) => {
        try {
          decodeInvite(s);
        } catch (e) {
          assert.ok(isBadInvite(e), String(e));
        }
      }),
    );
  });
});

// Keep the KeyPairs type referenced for readers of the test.
export type { KeyPairs };

describe('hkdf', () => {
  it('matches RFC 5869 test case 1 and node hkdfSync', () => {
    const ikm = new Uint8Array(22).fill(0x0b);
    const salt = Uint8Array.from({ length: 13 }, (_, i) => i);
    const info = Uint8Array.from({ length: 10 }, (_, i) => 0xf0 + i);
    assert.equal(
      Buffer.from(hkdf(ikm, salt, info, 42)).toString('hex'),
      '3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865',
    );
    for (const [len, s] of [
      [32, new Uint8Array(0)],
      [64, salt],
      [7, new Uint8Array(0)],
    ] as const) {
      assert.deepEqual(hkdf(ikm, s, info, len), new Uint8Array(hkdfSync('sha256', ikm, s, info, len)));
    }
  });
});
