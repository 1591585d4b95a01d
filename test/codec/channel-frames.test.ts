/**
 * Channel frame codec: round trips, rejection of every malformed class, properties (arbitrary bytes
 * and arbitrary "frames" never throw and give a documented code; every truncation of a valid frame
 * is refused), and golden vectors (fixed keys → fixed bytes) for the HELLOs and a request/response.
 */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import { deriveUuid, keyPairsFromSeed } from '../../src/crypto/index.ts';
import { buildHello, checkHello } from '../../src/transport/channel/channel.ts';
import {
  CHANNEL_VERSION,
  decodeFrame,
  encodeFrame,
  type Frame,
  type FrameErrorCode,
  HELLO_BYTES,
  MAX_FRAME_HEADERS,
  MAX_HEADER_VALUE_BYTES,
} from '../../src/transport/channel-frames.ts';

const A = keyPairsFromSeed(Uint8Array.from({ length: 64 }, (_, i) => i));
const B = keyPairsFromSeed(Uint8Array.from({ length: 64 }, (_, i) => i + 64));
const EXPORTER = new Uint8Array(32).fill(0x44);
const utf8 = (s: string) => new TextEncoder().encode(s);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const CODES = new Set<FrameErrorCode>([
  'EMPTY',
  'UNKNOWN_KIND',
  'TRUNCATED',
  'TRAILING',
  'BAD_VERSION',
  'BAD_FIELD',
  'BAD_HEADER',
  'TOO_LARGE',
]);

function bytesOf(f: Frame): Uint8Array {
  const e = encodeFrame(f);
  assert.ok(e.ok, e.ok ? '' : `${e.code}: ${e.reason}`);
  return e.bytes;
}

const sampleRequest: Frame = {
  kind: 'request',
  id: 1,
  headers: { 'mesh-version': '1', 'mesh-type': 'referral' },
  body: utf8('{"referent":"x","hops":1}'),
};
const sampleResponse: Frame = { kind: 'response', id: 1, status: 200, body: utf8('{"ok":true}') };

describe('channel frames: golden vectors (docs/PROTOCOL.md §13.7)', () => {
  const vectors = [
    {
      desc: 'HELLO of A as dialer (role 0) over exporter 32 × 0x44',
      bytes: buildHello(A, 0, EXPORTER),
      hex: '01010003a107bff3ce10be1d70dd18e74bc09967e4d6309ba50d5f1ddc8664125531b8358072d6365880d1aeea329adf9121383851ed21a28e3b75e965d0d2cd166254038f4ccf13db852a255aa8b3a79355a088e69dd8b3de4ce2f9e95c081d6e4a98ab071dfde16f124714c77391a68e03da5c52f419ef57683ee0e5fcc393f31300',
    },
    {
      desc: 'HELLO of B as listener (role 1) over the same exporter',
      bytes: buildHello(B, 1, EXPORTER),
      hex: '0101012543b92ff1095511476adc8369db6ddc933665a11978dda1404ee1066ca9559d675dd574ed7789310b3d2e7681f3790b466c773b1521fecf36577958371ea52f63fbae0bba1e97c3bcdc2eb4e345bc686a530787742d28ef4aef6788751268ed93bd2eaf0b8bf16de35d0c42ad6bc5dc72c066fca3670876d681180f00668e0b',
    },
    {
      desc: 'REQUEST id 1, mesh-version 1, mesh-type referral, body {"referent":"x","hops":1}',
      bytes: bytesOf(sampleRequest),
      hex: '0200000001020c6d6573682d76657273696f6e000131096d6573682d747970650008726566657272616c000000197b227265666572656e74223a2278222c22686f7073223a317d',
    },
    {
      desc: 'RESPONSE id 1, status 200, body {"ok":true}',
      bytes: bytesOf(sampleResponse),
      hex: '030000000100c80000000b7b226f6b223a747275657d',
    },
  ];
  for (const v of vectors) {
    it(v.desc, () => assert.equal(hex(v.bytes), v.hex));
  }

  it('the golden HELLOs verify for their role and exporter only, and name the right UUIDs', () => {
    const ha = decodeFrame(Buffer.from(vectors[0].hex, 'hex'));
    const hb = decodeFrame(Buffer.from(vectors[1].hex, 'hex'));
    assert.ok(ha.ok && ha.frame.kind === 'hello' && hb.ok && hb.frame.kind === 'hello');
    assert.equal(checkHello(ha.frame, 0, EXPORTER)?.uuid, '3619e750-a2dd-82ba-9788-07b2a00df56d');
    assert.equal(checkHello(hb.frame, 1, EXPORTER)?.uuid, deriveUuid(B.signPub, B.boxPub));
    assert.equal(checkHello(ha.frame, 1, EXPORTER), null, 'wrong role');
    assert.equal(checkHello(ha.frame, 0, new Uint8Array(32).fill(0x45)), null, 'another session');
    assert.equal(checkHello({ ...ha.frame, boxPub: B.boxPub }, 0, EXPORTER), null, 'swapped box key');
  });
});

describe('channel frames: round trips', () => {
  const cases: { desc: string; frame: Frame }[] = [
    {
      desc: 'hello',
      frame: {
        kind: 'hello',
        version: 1,
        role: 1,
        signPub: A.signPub,
        boxPub: A.boxPub,
        signature: new Uint8Array(64).fill(7),
      },
    },
    {
      desc: 'request, no headers, empty body',
      frame: { kind: 'request', id: 0, headers: {}, body: new Uint8Array(0) },
    },
    {
      desc: 'request, max id, binary body',
      frame: { kind: 'request', id: 0xffff_ffff, headers: { a: 'b' }, body: new Uint8Array(300).fill(0xff) },
    },
    {
      desc: 'request, longest value',
      frame: { kind: 'request', id: 5, headers: { v: 'x'.repeat(MAX_HEADER_VALUE_BYTES) }, body: new Uint8Array(1) },
    },
    { desc: 'response 599', frame: { kind: 'response', id: 9, status: 599, body: utf8('{}') } },
  ];
  for (const c of cases) {
    it(c.desc, () => {
      const d = decodeFrame(bytesOf(c.frame));
      assert.ok(d.ok);
      assert.deepEqual(d.frame, c.frame);
    });
  }
});

describe('channel frames: every malformed class is refused with its code', () => {
  const req = bytesOf(sampleRequest);
  const resp = bytesOf(sampleResponse);
  const hello = buildHello(A, 0, EXPORTER);
  const withByte = (b: Uint8Array, i: number, v: number) => {
    const c = new Uint8Array(b);
    c[i] = v;
    return c;
  };
  const rawRequest = (headers: [string, string][]) => {
    const parts: number[] = [0x02, 0, 0, 0, 1, headers.length];
    for (const [n, v] of headers) {
      const nb = Buffer.from(n, 'latin1');
      const vb = Buffer.from(v, 'latin1');
      parts.push(nb.length, ...nb, vb.length >> 8, vb.length & 0xff, ...vb);
    }
    parts.push(0, 0, 0, 0);
    return Uint8Array.from(parts);
  };
  const table: { desc: string; input: Uint8Array; code: FrameErrorCode }[] = [
    { desc: 'empty', input: new Uint8Array(0), code: 'EMPTY' },
    { desc: 'unknown kind', input: Uint8Array.of(0x04, 0, 0), code: 'UNKNOWN_KIND' },
    { desc: 'short hello', input: hello.subarray(0, HELLO_BYTES - 1), code: 'TRUNCATED' },
    { desc: 'hello + 1 byte', input: Uint8Array.from([...hello, 0]), code: 'TRAILING' },
    { desc: 'hello version 2', input: withByte(hello, 1, 2), code: 'BAD_VERSION' },
    { desc: 'hello role 2', input: withByte(hello, 2, 2), code: 'BAD_FIELD' },
    { desc: 'request body shorter than its length', input: req.subarray(0, req.length - 1), code: 'TRUNCATED' },
    { desc: 'request + 1 byte', input: Uint8Array.from([...req, 0]), code: 'TRAILING' },
    { desc: 'request with 33 headers', input: withByte(req, 5, MAX_FRAME_HEADERS + 1), code: 'BAD_HEADER' },
    { desc: 'upper-case header name', input: rawRequest([['Mesh-Version', '1']]), code: 'BAD_HEADER' },
    { desc: 'empty header name', input: rawRequest([['', '1']]), code: 'BAD_HEADER' },
    { desc: 'header name __proto__', input: rawRequest([['__proto__', '1']]), code: 'BAD_HEADER' },
    { desc: 'header value with a newline', input: rawRequest([['a', 'x\ny']]), code: 'BAD_HEADER' },
    { desc: 'header value with a non-ASCII byte', input: rawRequest([['a', 'caf\xe9']]), code: 'BAD_HEADER' },
    {
      desc: 'header value over the limit',
      input: rawRequest([['a', 'x'.repeat(MAX_HEADER_VALUE_BYTES + 1)]]),
      code: 'BAD_HEADER',
    },
    {
      desc: 'duplicate header',
      input: rawRequest([
        ['a', '1'],
        ['a', '2'],
      ]),
      code: 'BAD_HEADER',
    },
    { desc: 'response status 99', input: withByte(withByte(resp, 5, 0), 6, 99), code: 'BAD_FIELD' },
    { desc: 'response status 600', input: withByte(withByte(resp, 5, 2), 6, 0x58), code: 'BAD_FIELD' },
    { desc: 'short response', input: resp.subarray(0, 8), code: 'TRUNCATED' },
  ];
  for (const t of table) {
    it(t.desc, () => {
      const d = decodeFrame(t.input);
      assert.equal(d.ok, false);
      assert.equal(d.ok ? '' : d.code, t.code, d.ok ? '' : d.reason);
    });
  }

  it('a frame over the limit is refused before it is parsed', () => {
    const d = decodeFrame(req, req.length - 1);
    assert.ok(!d.ok && d.code === 'TOO_LARGE');
  });

  it('encode refuses out-of-bounds fields with a code instead of throwing', () => {
    const bad: [unknown, FrameErrorCode][] = [
      [{ ...sampleRequest, id: -1 }, 'BAD_FIELD'],
      [{ ...sampleRequest, id: 2 ** 32 }, 'BAD_FIELD'],
      [{ ...sampleRequest, headers: { 'Mesh-Version': '1' } }, 'BAD_HEADER'],
      [{ ...sampleRequest, headers: { a: 'é' } }, 'BAD_HEADER'],
      [
        { ...sampleRequest, headers: Object.fromEntries(Array.from({ length: 33 }, (_, i) => [`h${i}`, ''])) },
        'BAD_HEADER',
      ],
      [{ ...sampleResponse, status: 42 }, 'BAD_FIELD'],
      [
        { kind: 'hello', version: 2, role: 0, signPub: A.signPub, boxPub: A.boxPub, signature: new Uint8Array(64) },
        'BAD_VERSION',
      ],
      [
        { kind: 'hello', version: 1, role: 0, signPub: A.signPub, boxPub: A.boxPub, signature: new Uint8Array(63) },
        'BAD_FIELD',
      ],
      [{ kind: 'nope' }, 'UNKNOWN_KIND'],
    ];
    for (const [frame, code] of bad) {
      const e = encodeFrame(frame as Frame);
      assert.ok(!e.ok && e.code === code, JSON.stringify(frame).slice(0, 80));
    }
    const big = encodeFrame({ ...sampleResponse, body: new Uint8Array(100) }, 50);
    assert.ok(!big.ok && big.code === 'TOO_LARGE');
  });
});

describe('channel frames: properties', () => {
  const header = fc.tuple(fc.stringMatching(/^[a-z0-9-]{1,20}$/), fc.stringMatching(/^[ -~]{0,40}$/));
  const frame: fc.Arbitrary<Frame> = fc.oneof(
    fc.record({
      kind: fc.constant('request' as const),
      id: fc.integer({ min: 0, max: 0xffff_ffff }),
      headers: fc.uniqueArray(header, { maxLength: 12, selector: (h) => h[0] }).map((hs) => Object.fromEntries(hs)),
      body: fc.uint8Array({ maxLength: 512 }),
    }),
    fc.record({
      kind: fc.constant('response' as const),
      id: fc.integer({ min: 0, max: 0xffff_ffff }),
      status: fc.integer({ min: 100, max: 599 }),
      body: fc.uint8Array({ maxLength: 512 }),
    }),
    fc.record({
      kind: fc.constant('hello' as const),
      version: fc.constant(CHANNEL_VERSION),
      role: fc.constantFrom(0 as const, 1 as const),
      signPub: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      boxPub: fc.uint8Array({ minLength: 32, maxLength: 32 }),
      signature: fc.uint8Array({ minLength: 64, maxLength: 64 }),
    }),
  );

  it('valid frames round-trip; every strict prefix is refused', () => {
    fc.assert(
      fc.property(frame, (f) => {
        const b = bytesOf(f);
        const d = decodeFrame(b);
        assert.ok(d.ok);
        assert.deepEqual(d.frame, { ...f }); // fast-check records have a null prototype
        for (const cut of [1, Math.floor(b.length / 2), b.length - 1]) {
          if (cut <= 0 || cut >= b.length) continue;
          const p = decodeFrame(b.subarray(0, cut));
          assert.ok(!p.ok && p.code === 'TRUNCATED', `cut ${cut}`);
        }
      }),
      { numRuns: 500, seed: 9 },
    );
  });

  it('arbitrary bytes never throw and give ok or a documented code', () => {
    const kinded = fc
      .tuple(fc.integer({ min: 0, max: 4 }), fc.uint8Array({ maxLength: 300 }))
      .map(([k, rest]) => Uint8Array.from([k, ...rest]));
    fc.assert(
      fc.property(fc.oneof(fc.uint8Array({ maxLength: 300 }), kinded), (b) => {
        const d = decodeFrame(b);
        if (!d.ok) assert.ok(CODES.has(d.code), d.code);
      }),
      { numRuns: 5000, seed: 10 },
    );
  });

  it('mutated valid frames never throw', () => {
    fc.assert(
      fc.property(frame, fc.nat(), fc.integer({ min: 0, max: 255 }), (f, at, v) => {
        const b = new Uint8Array(bytesOf(f));
        b[at % b.length] = v;
        const d = decodeFrame(b);
        if (!d.ok) assert.ok(CODES.has(d.code));
      }),
      { numRuns: 3000, seed: 11 },
    );
  });

  it('arbitrary values given to encode never throw', () => {
    fc.assert(
      fc.property(fc.anything(), (x) => {
        const e = encodeFrame(x as Frame);
        if (!e.ok) assert.ok(CODES.has(e.code));
      }),
      { numRuns: 2000, seed: 12 },
    );
  });
});
