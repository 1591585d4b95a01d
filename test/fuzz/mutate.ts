/**
 * The mutation fuzzer: takes a valid request made by a real core (corpus.ts) and damages it —
 * flipped and truncated bytes, fields of the wrong type, huge numbers, base64url of impossible
 * length or with bad characters, duplicated JSON keys, dropped or doubled headers, swapped types,
 * stale or future timestamps — then, half of the time, proves it again with the real sender's key,
 * so the damage gets past authentication: "a valid MAC around a garbage body from a real contact".
 */
import { reprove, type Seed, type Signer } from './corpus.ts';
import type { Rng } from './rng.ts';

/** A mutated request, with the list of mutations applied (for crash reports). */
export interface Mutant {
  seed: string;
  headers: Record<string, string>;
  body: Uint8Array;
  host: string;
  ops: string[];
  /** Re-proved by the real sender after mutation (its key vouches for the damaged request). */
  reproved: boolean;
  signer: Signer;
  /** HTTPS only: extra raw header lines (duplicates), another method or path. */
  extraHeaders: [string, string][];
  method: string;
  path: string;
}

/** Everything the mutators may need from the run: ids of the parties, the clock. */
export interface MutationContext {
  now: number;
  uuids: string[];
  https: boolean;
}

const enc = new TextEncoder();
const dec = new TextDecoder();
const HEADER_NAMES = [
  'mesh-version',
  'mesh-type',
  'mesh-from',
  'mesh-id',
  'mesh-ts',
  'mesh-port',
  'mesh-secret',
  'mesh-pub-key',
  'mesh-signature',
];
const TYPES = ['IP', 'referral', 'message', 'contact_req'];

function b64uOf(rng: Rng, chars: number): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  let s = '';
  for (let i = 0; i < chars; i++) s += alphabet[rng.int(64)];
  return s;
}

function randomUuid(rng: Rng): string {
  const h = Array.from(rng.bytes(16), (b) => b.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-8${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

/** Values that break validators: edges of every type, impossible base64url, deep nesting. */
function weirdValue(rng: Rng, ctx: MutationContext): unknown {
  switch (rng.int(12)) {
    case 0:
      return rng.pick([null, true, false, [], {}, [1], { a: { b: {} } }]);
    case 1:
      return rng.pick([0, -1, 1, 2, 31, 32, 33, 1.5, -0, 1e308, -1e308, 2 ** 53 + 1, 1e21, 4294967296]);
    case 2:
      return rng.pick(['', ' ', '0', 'null', '=', '==', '\u0000', '\ud800', '😀'.repeat(8), '127.0.0.1:7575']);
    case 3:
      return b64uOf(rng, rng.pick([1, 5, 9, 13, 17, 21, 25, 41, 45, 85, 87]));
    case 4:
      return rng.pick(['!!!!', 'AA==', 'A+/A', 'AAAA AAAA', '\n']) + b64uOf(rng, rng.int(40));
    case 5:
      return rng.pick(ctx.uuids);
    case 6:
      return randomUuid(rng);
    case 7:
      return rng.pick(ctx.uuids).toUpperCase();
    case 8:
      return 'x'.repeat(rng.pick([100, 129, 4097, 8193, 33000]));
    case 9:
      return b64uOf(rng, rng.pick([16, 22, 43, 86, 100, 4096, 8192, 8193]));
    case 10: {
      let v: unknown = 1;
      for (let i = rng.range(10, 3000); i > 0; i--) v = [v];
      return v;
    }
    default:
      return { __proto__: { hops: 1 }, constructor: 'x', toString: 1 };
  }
}

type Json = Record<string, unknown>;

/** Every (object, key) slot of a parsed body, nested ones included. */
function slots(o: unknown, out: [Json, string][] = [], depth = 0): [Json, string][] {
  if (o === null || typeof o !== 'object' || depth > 4) return out;
  for (const k of Object.keys(o)) {
    out.push([o as Json, k]);
    slots((o as Json)[k], out, depth + 1);
  }
  return out;
}

function parseObject(body: Uint8Array): Json | null {
  try {
    const v = JSON.parse(dec.decode(body));
    return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Json) : null;
  } catch {
    return null;
  }
}

type JsonOp = (rng: Rng, o: Json, ctx: MutationContext) => string | Uint8Array | null;

const JSON_OPS: Record<string, JsonOp> = {
  'json:set': (rng, o, ctx) => {
    const s = slots(o);
    if (!s.length) return null;
    const [obj, k] = rng.pick(s);
    obj[k] = weirdValue(rng, ctx);
    return JSON.stringify(o);
  },
  'json:b64u-len≡1': (rng, o) => {
    const s = slots(o).filter(([obj, k]) => typeof obj[k] === 'string' && /^[A-Za-z0-9_-]{4,}$/.test(obj[k] as string));
    if (!s.length) return null;
    const [obj, k] = rng.pick(s);
    let v = obj[k] as string;
    while (v.length % 4 !== 1) v = rng.chance(0.5) && v.length > 5 ? v.slice(0, -1) : `${v}A`;
    obj[k] = v;
    return JSON.stringify(o);
  },
  'json:b64u-bad-char': (rng, o) => {
    const s = slots(o).filter(([obj, k]) => typeof obj[k] === 'string' && (obj[k] as string).length > 0);
    if (!s.length) return null;
    const [obj, k] = rng.pick(s);
    const v = obj[k] as string;
    const i = rng.int(v.length);
    obj[k] = v.slice(0, i) + rng.pick(['+', '/', '=', '.', ' ', 'é', '\u0000']) + v.slice(i + 1);
    return JSON.stringify(o);
  },
  'json:delete': (rng, o) => {
    const s = slots(o);
    if (!s.length) return null;
    const [obj, k] = rng.pick(s);
    delete obj[k];
    return JSON.stringify(o);
  },
  'json:add-key': (rng, o, ctx) => {
    const k = rng.pick(['__proto__', 'constructor', 'prototype', 'toString', 'hops', 'to', 'withdraw', 'maxHops', 'x']);
    // A literal key in the text: JSON.parse makes "__proto__" an own property, as a hostile peer would send it.
    const text = JSON.stringify(o);
    const value = JSON.stringify(weirdValue(rng, ctx)) ?? 'null';
    return text === '{}' ? `{"${k}":${value}}` : `{"${k}":${value},${text.slice(1)}`;
  },
  'json:duplicate-key': (rng, o, ctx) => {
    const keys = Object.keys(o);
    if (!keys.length) return null;
    const k = rng.pick(keys);
    const text = JSON.stringify(o);
    const dup = `"${k}":${JSON.stringify(weirdValue(rng, ctx)) ?? 'null'}`;
    // Before the original (the original wins in JSON.parse) or after it (the duplicate wins).
    return rng.chance(0.5) ? `{${dup},${text.slice(1)}` : `${text.slice(0, -1)},${dup}}`;
  },
  'json:swap-type': (rng, o) => {
    const s = slots(o);
    if (!s.length) return null;
    const [obj, k] = rng.pick(s);
    const v = obj[k];
    obj[k] =
      typeof v === 'number'
        ? String(v)
        : typeof v === 'string'
          ? Number(v) || v.length
          : typeof v === 'boolean'
            ? String(v)
            : Array.isArray(v)
              ? { ...v }
              : v === null
                ? 0
                : [v];
    return JSON.stringify(o);
  },
  'json:hops-edge': (rng, o) => {
    o[rng.pick(['hops', 'maxHops'])] = rng.pick([0, 1, 2, 31, 32, 33, -1, 1.0000001, 1e9, '1']);
    return JSON.stringify(o);
  },
  'json:uuid-swap': (rng, o, ctx) => {
    const k = rng.pick(['to', 'referent']);
    o[k] = rng.chance(0.2) ? null : rng.pick(ctx.uuids);
    const card = o.card as Json | undefined;
    if (card && typeof card === 'object' && rng.chance(0.5)) card.uuid = rng.pick(ctx.uuids);
    return JSON.stringify(o);
  },
  'json:root': (rng, o) => rng.pick(['[]', '"x"', '1', 'null', 'true', JSON.stringify([o]), '{}']),
};

type ByteOp = (rng: Rng, b: Uint8Array) => Uint8Array;

const BYTE_OPS: Record<string, ByteOp> = {
  'bytes:flip-bit': (rng, b) => {
    if (!b.length) return b;
    const c = Uint8Array.from(b);
    c[rng.int(c.length)] ^= 1 << rng.int(8);
    return c;
  },
  'bytes:set': (rng, b) => {
    if (!b.length) return b;
    const c = Uint8Array.from(b);
    c[rng.int(c.length)] = rng.pick([0x00, 0xff, 0x22, 0x5c, 0x7b, 0x7d, 0xc0, 0xed, rng.int(256)]);
    return c;
  },
  'bytes:truncate': (rng, b) => b.slice(0, rng.int(b.length + 1)),
  'bytes:append': (rng, b) =>
    concat(
      b,
      rng.chance(0.5) ? rng.bytes(rng.range(1, 64)) : enc.encode(rng.pick(['}', ',', ']', '"', 'null', '\u0000'])),
    ),
  'bytes:delete-span': (rng, b) => {
    const i = rng.int(b.length + 1);
    return concat(b.slice(0, i), b.slice(Math.min(b.length, i + rng.range(1, 16))));
  },
  'bytes:duplicate-span': (rng, b) => {
    const i = rng.int(b.length + 1);
    const j = Math.min(b.length, i + rng.range(1, 64));
    return concat(b.slice(0, j), b.slice(i, j), b.slice(j));
  },
  'bytes:empty': () => new Uint8Array(0),
  'bytes:oversize': (rng) =>
    concat(enc.encode('{"p":"'), new Uint8Array(rng.pick([65_530, 65_537, 70_000])).fill(0x61), enc.encode('"}')),
  'bytes:bom': (_rng, b) => concat(Uint8Array.of(0xef, 0xbb, 0xbf), b),
  'bytes:utf16': (_rng, b) => {
    const s = dec.decode(b);
    const out = new Uint8Array(s.length * 2);
    for (let i = 0; i < s.length; i++) out[2 * i] = s.charCodeAt(i) & 0xff;
    return out;
  },
  'bytes:random': (rng) => rng.bytes(rng.range(0, 512)),
};

type HeaderOp = (rng: Rng, h: Record<string, string>, ctx: MutationContext) => void;

const HEADER_OPS: Record<string, HeaderOp> = {
  'header:drop': (rng, h) => {
    delete h[rng.pick(HEADER_NAMES)];
  },
  'header:set': (rng, h) => {
    h[rng.pick(HEADER_NAMES)] = rng.pick([
      '',
      ' ',
      'x'.repeat(129),
      '1 ',
      '01',
      '-1',
      '1e3',
      '0x1f',
      'é',
      'null',
      b64uOf(rng, rng.pick([21, 22, 23, 42, 43, 44, 85, 86, 87])),
    ]);
  },
  'header:type-swap': (rng, h) => {
    h['mesh-type'] = rng.pick(TYPES.filter((t) => t !== h['mesh-type']));
  },
  'header:ts': (rng, h, ctx) => {
    h['mesh-ts'] = String(
      rng.pick([ctx.now - 301_000, ctx.now + 301_000, ctx.now - 299_000, 0, 999_999_999_999_999, -1, 1e21]),
    );
  },
  'header:port': (rng, h) => {
    h['mesh-port'] = rng.pick(['0', '1', '65535', '65536', '99999', '07575', '+1', '1.5', '']);
  },
  'header:version': (rng, h) => {
    h['mesh-version'] = rng.pick(['2', '01', '1.0', ' 1', '', 'v1', '0', '1'.repeat(200)]);
  },
  'header:id': (rng, h) => {
    h['mesh-id'] = rng.pick([b64uOf(rng, 21), b64uOf(rng, 23), `${b64uOf(rng, 20)}==`, `${b64uOf(rng, 21)}+`]);
  },
  'header:from': (rng, h, ctx) => {
    h['mesh-from'] = rng.chance(0.7)
      ? rng.pick(ctx.uuids)
      : rng.pick([randomUuid(rng), rng.pick(ctx.uuids).toUpperCase()]);
  },
  'header:proof-swap': (rng, h) => {
    if (h['mesh-secret'] !== undefined && rng.chance(0.7)) {
      delete h['mesh-secret'];
      h['mesh-pub-key'] = b64uOf(rng, 86);
      h['mesh-signature'] = b64uOf(rng, 86);
    } else {
      h['mesh-secret'] = b64uOf(rng, 43);
      if (rng.chance(0.5)) {
        delete h['mesh-pub-key'];
        delete h['mesh-signature'];
      }
    }
  },
  'header:junk': (rng, h) => {
    h[rng.pick(['mesh-extra', 'x-forwarded-for', 'mesh-channel', 'content-encoding', 'mesh-version2'])] = rng.pick([
      '10.7.0.2',
      'gzip',
      '1',
      'x'.repeat(300),
    ]);
  },
};

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

const JSON_NAMES = Object.keys(JSON_OPS);
const BYTE_NAMES = Object.keys(BYTE_OPS);
const HEADER_OP_NAMES = Object.keys(HEADER_OPS);

/** Mutates a seed: 1–3 mutations, re-proved by its real sender half of the time. */
export function mutate(rng: Rng, seed: Seed, ctx: MutationContext): Mutant {
  const headers = { ...seed.headers };
  let body = seed.body;
  const ops: string[] = [];
  const reproved = rng.chance(0.5);
  if (reproved) {
    // A fresh id and clock first, so a header mutation below still shows through the new proof.
    headers['mesh-id'] = b64uOf(rng, 21) + rng.pick(['A', 'Q', 'g', 'w']);
    headers['mesh-ts'] = String(ctx.now);
  }
  const n = rng.chance(0.08) ? 0 : rng.range(1, 3);
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    if (r < 0.45) {
      const o = parseObject(body);
      const name = rng.pick(JSON_NAMES);
      const out = o ? JSON_OPS[name](rng, o, ctx) : null;
      if (out !== null) {
        body = typeof out === 'string' ? enc.encode(out) : out;
        ops.push(name);
        continue;
      }
    }
    if (r < 0.7) {
      const name = rng.pick(BYTE_NAMES);
      body = BYTE_OPS[name](rng, body);
      ops.push(name);
    } else {
      const name = rng.pick(HEADER_OP_NAMES);
      HEADER_OPS[name](rng, headers, ctx);
      ops.push(name);
    }
  }
  if (reproved) reprove(headers, body, seed.signer);
  const m: Mutant = {
    seed: seed.name,
    headers,
    body,
    host: seed.host,
    ops,
    reproved,
    signer: seed.signer,
    extraHeaders: [],
    method: 'POST',
    path: '/mesh',
  };
  if (ctx.https) mutateTransport(rng, m);
  return m;
}

/** HTTP-level damage only a real connection can carry: doubled headers, other methods and paths. */
function mutateTransport(rng: Rng, m: Mutant): void {
  // Header values must be sendable on the wire (visible ASCII): undici refuses the rest client-side.
  for (const [k, v] of Object.entries(m.headers)) m.headers[k] = v.replace(/[^\x20-\x7e]/g, '?').trim();
  const r = rng.next();
  if (r < 0.06) {
    const name = rng.pick(HEADER_NAMES);
    m.extraHeaders.push([name, m.headers[name] ?? b64uOf(rng, 22)]);
    m.ops.push('http:duplicate-header');
  } else if (r < 0.08) {
    m.method = rng.pick(['GET', 'PUT', 'DELETE', 'PATCH']);
    m.ops.push('http:method');
  } else if (r < 0.1) {
    m.path = rng.pick(['/mesh/', '/MESH', '/mesh?x=1', '/', '/mesh/../mesh', '//mesh']);
    m.ops.push('http:path');
  } else if (r < 0.12) {
    m.extraHeaders.push([
      rng.pick(['__proto__', 'constructor', 'content-type']),
      rng.pick(['x', 'text/plain', 'application/json; charset=latin1']),
    ]);
    m.ops.push('http:odd-header');
  }
}
