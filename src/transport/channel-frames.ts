/**
 * Channel frame codec (docs/PROTOCOL.md §13.3): the binary frames one WebSocket message carries on the
 * persistent channel. Pure: no sockets, no clocks. `encodeFrame` / `decodeFrame` return a typed
 * result `{ ok, code, reason }`, bound every field and never throw, so bad remote input can only
 * become a close code (docs/PROTOCOL.md §13.5), never a crash.
 *
 * Layout (all integers big-endian):
 *   HELLO    01 | version u8 | role u8 | signPub[32] | boxPub[32] | signature[64]           (131 bytes)
 *   REQUEST  02 | id u32 | count u8 | count × (nameLen u8 | name | valueLen u16 | value) | bodyLen u32 | body
 *   RESPONSE 03 | id u32 | status u16 | bodyLen u32 | body
 */
import { utf8 } from '../crypto/index.ts';

/** Channel wire version carried in HELLO. */
export const CHANNEL_VERSION = 1;
/** Largest frame (one WebSocket message), bytes: a 1 MiB response body (the client's response limit) plus headers. */
export const MAX_FRAME_BYTES = 1024 * 1024 + 16 * 1024;
/** Most headers in one REQUEST frame (a Mesh request uses at most 9, plus content-type). */
export const MAX_FRAME_HEADERS = 32;
/** Longest header name, bytes. */
export const MAX_HEADER_NAME_BYTES = 64;
/** Longest header value, bytes (Mesh-* values are ≤ 128; room for other HTTP headers). */
export const MAX_HEADER_VALUE_BYTES = 1024;
/** Size of a HELLO frame, bytes. */
export const HELLO_BYTES = 131;
/** TLS exporter label both ends feed to `exportKeyingMaterial` (RFC 8446 §7.5). */
export const EXPORTER_LABEL = 'EXPORTER-mesh-channel';
/** Length of the TLS exporter value the HELLO signs, bytes. */
export const EXPORTER_BYTES = 32;

/** Frame kind byte. */
export const FRAME_KIND = { hello: 0x01, request: 0x02, response: 0x03 } as const;

/** Who sends a HELLO: 0 = the dialer (sent first), 1 = the listener (the answer). */
export type HelloRole = 0 | 1;

/** HELLO: proves the sender's identity key and binds it to this TLS session (docs/PROTOCOL.md §13.2). */
export interface HelloFrame {
  kind: 'hello';
  version: number;
  role: HelloRole;
  signPub: Uint8Array;
  boxPub: Uint8Array;
  signature: Uint8Array;
}

/** REQUEST: one Mesh request (the POST's headers and body) with the sender's request id. */
export interface RequestFrame {
  kind: 'request';
  id: number;
  /** Header names lower-case. */
  headers: Record<string, string>;
  body: Uint8Array;
}

/** RESPONSE: the answer to the peer's REQUEST with the same id. */
export interface ResponseFrame {
  kind: 'response';
  id: number;
  status: number;
  body: Uint8Array;
}

/** Any channel frame. */
export type Frame = HelloFrame | RequestFrame | ResponseFrame;

/** Why a frame did not encode or decode. */
export type FrameErrorCode =
  | 'EMPTY'
  | 'UNKNOWN_KIND'
  | 'TRUNCATED'
  | 'TRAILING'
  | 'BAD_VERSION'
  | 'BAD_FIELD'
  | 'BAD_HEADER'
  | 'TOO_LARGE';

/** Result of {@link decodeFrame}. */
export type DecodedFrame = { ok: true; frame: Frame } | { ok: false; code: FrameErrorCode; reason: string };
/** Result of {@link encodeFrame}. */
export type EncodedFrame = { ok: true; bytes: Uint8Array } | { ok: false; code: FrameErrorCode; reason: string };

const fail = (code: FrameErrorCode, reason: string) => ({ ok: false as const, code, reason });
/** HTTP token characters, lower-case only (names are lower-cased before encoding, as the POST edge does). */
const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/;
/** Visible ASCII, space and tab: what an HTTP field value may hold. */
const HEADER_VALUE = /^[\t\x20-\x7e]*$/;
/** Refused although a valid token: a header object keyed by it would be a prototype trap for naive readers. */
const FORBIDDEN_NAMES = new Set(['__proto__']);
/** Names that already passed the check (the few Mesh-* names recur on every frame); bounded. */
const GOOD_NAMES = new Set<string>();

/** The bytes a HELLO signs: a domain tag, the role, this session's exporter value and the sender's keys. */
export function helloSigningInput(
  role: HelloRole,
  exporter: Uint8Array,
  signPub: Uint8Array,
  boxPub: Uint8Array,
): Uint8Array {
  const tag = utf8('mesh-v1-channel-hello\n');
  const out = new Uint8Array(tag.length + 1 + exporter.length + 64);
  out.set(tag, 0);
  out[tag.length] = role;
  out.set(exporter, tag.length + 1);
  out.set(signPub, tag.length + 1 + exporter.length);
  out.set(boxPub, tag.length + 1 + exporter.length + 32);
  return out;
}

/** Encodes a frame; a field out of bounds gives `{ ok: false }`, never a throw. */
export function encodeFrame(frame: Frame, maxFrameBytes = MAX_FRAME_BYTES): EncodedFrame {
  try {
    switch (frame.kind) {
      case 'hello':
        return encodeHello(frame);
      case 'request':
        return encodeRequest(frame, maxFrameBytes);
      case 'response':
        return encodeResponse(frame, maxFrameBytes);
      default:
        return fail('UNKNOWN_KIND', 'unknown frame kind');
    }
  } catch {
    // Only reachable with values that defeat the type (e.g. a getter that throws): still no throw out.
    return fail('BAD_FIELD', 'frame fields are not encodable');
  }
}

function isBytes(b: unknown, len?: number): b is Uint8Array {
  return b instanceof Uint8Array && (len === undefined || b.byteLength === len);
}

function isId(id: unknown): id is number {
  return Number.isInteger(id) && (id as number) >= 0 && (id as number) <= 0xffff_ffff;
}

function encodeHello(f: HelloFrame): EncodedFrame {
  if (f.version !== CHANNEL_VERSION) return fail('BAD_VERSION', `version must be ${CHANNEL_VERSION}`);
  if (f.role !== 0 && f.role !== 1) return fail('BAD_FIELD', 'role must be 0 or 1');
  if (!isBytes(f.signPub, 32) || !isBytes(f.boxPub, 32)) return fail('BAD_FIELD', 'keys must be 32 bytes');
  if (!isBytes(f.signature, 64)) return fail('BAD_FIELD', 'signature must be 64 bytes');
  const out = new Uint8Array(HELLO_BYTES);
  out[0] = FRAME_KIND.hello;
  out[1] = f.version;
  out[2] = f.role;
  out.set(f.signPub, 3);
  out.set(f.boxPub, 35);
  out.set(f.signature, 67);
  return { ok: true, bytes: out };
}

function encodeRequest(f: RequestFrame, maxFrameBytes: number): EncodedFrame {
  if (!isId(f.id)) return fail('BAD_FIELD', 'id must be a u32');
  if (!isBytes(f.body)) return fail('BAD_FIELD', 'body must be bytes');
  if (typeof f.headers !== 'object' || f.headers === null) return fail('BAD_HEADER', 'headers must be an object');
  const names = Object.keys(f.headers);
  if (names.length > MAX_FRAME_HEADERS) return fail('BAD_HEADER', `more than ${MAX_FRAME_HEADERS} headers`);
  let size = 1 + 4 + 1 + 4 + f.body.byteLength;
  for (const name of names) {
    const value = f.headers[name];
    const bad = checkHeader(name, value);
    if (bad) return fail('BAD_HEADER', bad);
    // checkHeader let through ASCII only: one byte per character.
    size += 1 + name.length + 2 + value.length;
  }
  if (size > maxFrameBytes) return fail('TOO_LARGE', `frame of ${size} bytes exceeds ${maxFrameBytes}`);
  const out = new Uint8Array(size);
  // Written in place through a Buffer view (no per-header encoder allocations; one frame per message).
  const buf = Buffer.from(out.buffer, out.byteOffset, out.byteLength);
  out[0] = FRAME_KIND.request;
  buf.writeUInt32BE(f.id, 1);
  out[5] = names.length;
  let o = 6;
  for (const name of names) {
    const value = f.headers[name];
    out[o++] = name.length;
    o += buf.write(name, o, 'latin1');
    buf.writeUInt16BE(value.length, o);
    o += 2;
    o += buf.write(value, o, 'latin1');
  }
  buf.writeUInt32BE(f.body.byteLength, o);
  out.set(f.body, o + 4);
  return { ok: true, bytes: out };
}

function encodeResponse(f: ResponseFrame, maxFrameBytes: number): EncodedFrame {
  if (!isId(f.id)) return fail('BAD_FIELD', 'id must be a u32');
  if (!Number.isInteger(f.status) || f.status < 100 || f.status > 599)
    return fail('BAD_FIELD', 'status must be 100..599');
  if (!isBytes(f.body)) return fail('BAD_FIELD', 'body must be bytes');
  const size = 1 + 4 + 2 + 4 + f.body.byteLength;
  if (size > maxFrameBytes) return fail('TOO_LARGE', `frame of ${size} bytes exceeds ${maxFrameBytes}`);
  const out = new Uint8Array(size);
  const dv = new DataView(out.buffer);
  out[0] = FRAME_KIND.response;
  dv.setUint32(1, f.id);
  dv.setUint16(5, f.status);
  dv.setUint32(7, f.body.byteLength);
  out.set(f.body, 11);
  return { ok: true, bytes: out };
}

/** Why a header cannot travel in a frame, or null when it can. */
function checkHeader(name: unknown, value: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_HEADER_NAME_BYTES) {
    return `header name must be 1..${MAX_HEADER_NAME_BYTES} bytes`;
  }
  if (!GOOD_NAMES.has(name)) {
    if (!HEADER_NAME.test(name) || FORBIDDEN_NAMES.has(name))
      return `header name "${name.slice(0, 64)}" is not a lower-case token`;
    if (GOOD_NAMES.size < 256) GOOD_NAMES.add(name);
  }
  if (typeof value !== 'string' || value.length > MAX_HEADER_VALUE_BYTES) {
    return `header ${name}: value must be a string of at most ${MAX_HEADER_VALUE_BYTES} bytes`;
  }
  if (!HEADER_VALUE.test(value)) return `header ${name}: value has a control or non-ASCII character`;
  return null;
}

/** A bounds-checked reader: every read says whether the bytes were there. */
class Reader {
  private o = 0;
  private readonly dv: DataView;
  private readonly buf: Buffer;
  constructor(private readonly b: Uint8Array) {
    this.dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    this.buf = Buffer.from(b.buffer, b.byteOffset, b.byteLength);
  }
  left(): number {
    return this.b.byteLength - this.o;
  }
  u8(): number | null {
    if (this.left() < 1) return null;
    return this.b[this.o++];
  }
  u16(): number | null {
    if (this.left() < 2) return null;
    const v = this.dv.getUint16(this.o);
    this.o += 2;
    return v;
  }
  u32(): number | null {
    if (this.left() < 4) return null;
    const v = this.dv.getUint32(this.o);
    this.o += 4;
    return v;
  }
  /** `n` bytes as a latin1 string (no intermediate copy), or null when short. */
  latin1(n: number): string | null {
    if (this.left() < n) return null;
    const v = this.buf.toString('latin1', this.o, this.o + n);
    this.o += n;
    return v;
  }
  /** A copy, so a frame never aliases the socket's buffer. */
  bytes(n: number): Uint8Array | null {
    if (this.left() < n) return null;
    const v = this.b.slice(this.o, this.o + n);
    this.o += n;
    return v;
  }
}

/** Decodes one frame; anything malformed, truncated, trailing or over `maxFrameBytes` gives `{ ok: false }`. */
export function decodeFrame(bytes: Uint8Array, maxFrameBytes = MAX_FRAME_BYTES): DecodedFrame {
  if (!(bytes instanceof Uint8Array) || bytes.byteLength === 0) return fail('EMPTY', 'empty frame');
  if (bytes.byteLength > maxFrameBytes)
    return fail('TOO_LARGE', `frame of ${bytes.byteLength} bytes exceeds ${maxFrameBytes}`);
  const r = new Reader(bytes);
  const kind = r.u8();
  let out: DecodedFrame;
  if (kind === FRAME_KIND.hello) out = decodeHello(r);
  else if (kind === FRAME_KIND.request) out = decodeRequest(r);
  else if (kind === FRAME_KIND.response) out = decodeResponse(r);
  else return fail('UNKNOWN_KIND', `unknown frame kind 0x${(kind ?? 0).toString(16)}`);
  if (out.ok && r.left() !== 0) return fail('TRAILING', `${r.left()} bytes after the frame`);
  return out;
}

function decodeHello(r: Reader): DecodedFrame {
  const version = r.u8();
  const role = r.u8();
  const signPub = r.bytes(32);
  const boxPub = r.bytes(32);
  const signature = r.bytes(64);
  if (version === null || role === null || !signPub || !boxPub || !signature) return fail('TRUNCATED', 'short HELLO');
  if (version !== CHANNEL_VERSION) return fail('BAD_VERSION', `channel version ${version} is not supported`);
  if (role !== 0 && role !== 1) return fail('BAD_FIELD', `role ${role} is not 0 or 1`);
  return { ok: true, frame: { kind: 'hello', version, role, signPub, boxPub, signature } };
}

function decodeRequest(r: Reader): DecodedFrame {
  const id = r.u32();
  const count = r.u8();
  if (id === null || count === null) return fail('TRUNCATED', 'short REQUEST');
  if (count > MAX_FRAME_HEADERS) return fail('BAD_HEADER', `${count} headers; at most ${MAX_FRAME_HEADERS}`);
  const headers: Record<string, string> = Object.create(null);
  for (let i = 0; i < count; i++) {
    const nLen = r.u8();
    if (nLen === null) return fail('TRUNCATED', 'short header');
    const name = r.latin1(nLen);
    const vLen = r.u16();
    if (name === null || vLen === null) return fail('TRUNCATED', 'short header');
    if (vLen > MAX_HEADER_VALUE_BYTES) return fail('BAD_HEADER', `header value of ${vLen} bytes`);
    const value = r.latin1(vLen);
    if (value === null) return fail('TRUNCATED', 'short header value');
    const bad = checkHeader(name, value);
    if (bad) return fail('BAD_HEADER', bad);
    if (name in headers) return fail('BAD_HEADER', `header ${name} appears twice`);
    headers[name] = value;
  }
  const len = r.u32();
  if (len === null) return fail('TRUNCATED', 'short REQUEST body length');
  const body = r.bytes(len);
  if (!body) return fail('TRUNCATED', 'REQUEST body shorter than its length');
  return { ok: true, frame: { kind: 'request', id, headers: { ...headers }, body } };
}

function decodeResponse(r: Reader): DecodedFrame {
  const id = r.u32();
  const status = r.u16();
  const len = r.u32();
  if (id === null || status === null || len === null) return fail('TRUNCATED', 'short RESPONSE');
  if (status < 100 || status > 599) return fail('BAD_FIELD', `status ${status} is not 100..599`);
  const body = r.bytes(len);
  if (!body) return fail('TRUNCATED', 'RESPONSE body shorter than its length');
  return { ok: true, frame: { kind: 'response', id, status, body } };
}
