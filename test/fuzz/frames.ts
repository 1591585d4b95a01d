/**
 * Channel frames for the fuzzers (docs/PROTOCOL.md §13.3): a raw encoder that does not validate (so
 * bad headers reach the decoder), byte-level damage (kinds, lengths, counts, truncation, trailing
 * bytes, splices), and the outcome §13.5 documents for a frame in a channel state — the oracle both
 * channel runners check the node against.
 */

import { checkHello } from '../../src/transport/channel/channel.ts';
import { CLOSE } from '../../src/transport/channel/constants.ts';
import {
  CHANNEL_VERSION,
  decodeFrame,
  encodeFrame,
  FRAME_KIND,
  MAX_FRAME_BYTES,
} from '../../src/transport/channel-frames.ts';
import type { Seed } from './corpus.ts';
import { type Mutant, type MutationContext, mutate } from './mutate.ts';
import type { Rng } from './rng.ts';

/** One fuzzed frame: its bytes, what it came from and the mutant request inside (REQUEST frames). */
export interface FuzzFrame {
  bytes: Uint8Array;
  ops: string[];
  /** The request a REQUEST frame carries (its mutations), for the report and the write checks. */
  mutant: Mutant | null;
}

/** REQUEST frame bytes without any check: lengths are written modulo their field size. */
export function rawRequest(id: number, headers: [string, string][], body: Uint8Array): Uint8Array {
  const parts: number[] = [FRAME_KIND.request, (id >>> 24) & 255, (id >>> 16) & 255, (id >>> 8) & 255, id & 255];
  parts.push(headers.length & 255);
  const out: Uint8Array[] = [];
  for (const [k, v] of headers) {
    const n = Buffer.from(k, 'latin1');
    const val = Buffer.from(v, 'latin1');
    parts.push(n.length & 255, ...n, (val.length >>> 8) & 255, val.length & 255, ...val);
  }
  const len = body.byteLength;
  parts.push((len >>> 24) & 255, (len >>> 16) & 255, (len >>> 8) & 255, len & 255);
  out.push(Uint8Array.from(parts), body);
  return Buffer.concat(out);
}

/** RESPONSE frame bytes with any status (unchecked). */
export function rawResponse(id: number, status: number, body: Uint8Array): Uint8Array {
  const head = new Uint8Array(11);
  const dv = new DataView(head.buffer);
  head[0] = FRAME_KIND.response;
  dv.setUint32(1, id >>> 0);
  dv.setUint16(5, status & 0xffff);
  dv.setUint32(7, body.byteLength);
  return Buffer.concat([head, body]);
}

/** Damages frame bytes once. */
function damage(rng: Rng, b: Uint8Array, ops: string[], allowHuge: boolean): Uint8Array {
  const out = new Uint8Array(b);
  // Frames over the limit are rare: each is a megabyte, and one kind of refusal is enough to see.
  const r = allowHuge && rng.chance(0.01) ? 9 : rng.int(9);
  const at = out.length ? rng.int(out.length) : 0;
  switch (r) {
    case 0:
      if (out.length) out[at] ^= 1 << rng.int(8);
      ops.push('frame:flip');
      return out;
    case 1:
      if (out.length) out[0] = rng.pick([0, 1, 2, 3, 4, 0x7f, 0x80, 0xff]);
      ops.push('frame:kind');
      return out;
    case 2:
      ops.push('frame:truncate');
      return out.slice(0, rng.int(out.length + 1));
    case 3:
      ops.push('frame:trailing');
      return Buffer.concat([out, rng.bytes(rng.range(1, 8))]);
    case 4: {
      // A u32 field (id, body length) set to an edge value.
      if (out.length >= 5) {
        const o = rng.pick([1, Math.max(1, out.length - 4 - rng.int(8))]);
        const v = rng.pick([0, 1, 0x7fffffff, 0xffffffff, out.length, out.length + 1, MAX_FRAME_BYTES + 1]);
        if (o + 4 <= out.length) new DataView(out.buffer).setUint32(o, v >>> 0);
      }
      ops.push('frame:u32');
      return out;
    }
    case 5:
      if (out.length > 5) out[5] = rng.pick([0, 1, 31, 32, 33, 255]);
      ops.push('frame:count');
      return out;
    case 6:
      // A header name or value length byte.
      if (out.length > 7) out[rng.range(6, Math.min(out.length - 1, 40))] = rng.pick([0, 1, 64, 65, 255]);
      ops.push('frame:field-length');
      return out;
    case 7:
      ops.push('frame:splice');
      return Buffer.concat([out, out.slice(0, rng.int(out.length + 1))]);
    case 8:
      ops.push('frame:empty');
      return new Uint8Array(0);
    default:
      ops.push('frame:huge');
      return Buffer.concat([
        out,
        new Uint8Array(MAX_FRAME_BYTES + 1 - out.length > 0 ? MAX_FRAME_BYTES + 1 - out.length : 1),
      ]);
  }
}

/** Odd header lists a REQUEST frame can carry once the encoder's checks are skipped. */
function oddHeaders(rng: Rng, h: [string, string][], ops: string[]): void {
  const r = rng.int(7);
  ops.push(`frame:header-${r}`);
  if (r === 0) h.push([rng.pick(h)?.[0] ?? 'mesh-id', 'x']);
  else if (r === 1) h.push([rng.pick(['Mesh-From', '__proto__', 'constructor', 'x y', '', 'a'.repeat(65)]), 'v']);
  else if (r === 2) h.push(['mesh-note', rng.pick(['\u0000', '\r\nx: y', '\u00ff', 'x'.repeat(1025)])]);
  else if (r === 3) for (let i = 0; i < 33; i++) h.push([`x-${i}`, '1']);
  else if (r === 4) h.splice(0, h.length);
  else if (r === 5) h.reverse();
  else h.push(['mesh-secret', 'A'.repeat(43)]);
}

/** What the sender's channel run needs to make frames. */
export interface FrameSource {
  seeds: Seed[];
  /** The frame-sender's valid HELLO for this session (role 0) and other HELLOs (strangers', wrong role). */
  hello: () => Uint8Array;
  otherHellos: () => Uint8Array[];
  ctx: MutationContext;
  /** Whether a (rare) frame over the size limit may be made. @default true */
  allowHuge?: boolean;
  /** Drop Mesh-Secret from the channel peer's requests (a channel authenticates them). */
  peerUuid: string;
}

/** One fuzzed frame, and the id of the request it carries (for matching the answer). */
export function nextFrame(rng: Rng, src: FrameSource, id: number, shareClosing = 1): FuzzFrame {
  const ops: string[] = [];
  const allowHuge = src.allowHuge ?? true;
  const r = rng.next();
  const closingShare = 0.3 * shareClosing;
  if (r < 1 - closingShare - 0.1) {
    // A REQUEST frame around a mutated request (the request fuzzer's mutations, then the frame's).
    const m = mutate(rng, rng.pick(src.seeds), src.ctx);
    if (m.headers['mesh-from'] === src.peerUuid && rng.chance(0.7)) delete m.headers['mesh-secret'];
    const h = Object.entries(m.headers);
    if (rng.chance(0.05 * shareClosing)) oddHeaders(rng, h, ops);
    const enc = encodeFrame({ kind: 'request', id, headers: Object.fromEntries(h), body: m.body });
    const bytes = ops.length || !enc.ok ? rawRequest(id, h, m.body) : enc.bytes;
    return { bytes, ops: [...m.ops, ...ops], mutant: m };
  }
  if (r < 1 - closingShare) {
    // A RESPONSE nobody asked for (unknown id), maybe with an odd status.
    const status = rng.pick([200, 404, 500, 99, 600, 0, 65535, rng.int(65536)]);
    ops.push('frame:response');
    const b = rawResponse(rng.pick([id, 0, 0xffffffff, rng.u32()]), status, rng.bytes(rng.int(64)));
    return { bytes: rng.chance(0.3) ? damage(rng, b, ops, allowHuge) : b, ops, mutant: null };
  }
  const q = rng.next();
  let base: Uint8Array;
  if (q < 0.3) {
    base = rng.pick([src.hello(), ...src.otherHellos()]);
    ops.push('frame:hello');
  } else if (q < 0.85) {
    const s = rng.pick(src.seeds);
    base = rawRequest(id, Object.entries(s.headers), s.body);
    ops.push('frame:request');
  } else {
    base = rng.bytes(rng.int(200));
    ops.push('frame:random');
  }
  let bytes = damage(rng, base, ops, allowHuge);
  if (rng.chance(0.3)) bytes = damage(rng, bytes, ops, allowHuge);
  return { bytes, ops, mutant: null };
}

/** What docs/PROTOCOL.md §13.5 says a node does with a frame from the dialer. */
export type Expected =
  | { kind: 'close'; code: number }
  | { kind: 'open' }
  | { kind: 'answer'; id: number }
  | { kind: 'ignore' };

/** The documented outcome of `bytes` arriving at a listener in `state` (exporter: this session's). */
export function expectedOutcome(
  bytes: Uint8Array,
  state: 'hello' | 'open',
  exporter: Uint8Array,
  listenerSignPub: Uint8Array,
): Expected {
  const d = decodeFrame(bytes);
  if (!d.ok) return { kind: 'close', code: d.code === 'TOO_LARGE' ? CLOSE.TOO_BIG : CLOSE.BAD_FRAME };
  const f = d.frame;
  if (state === 'hello') {
    if (f.kind !== 'hello') return { kind: 'close', code: CLOSE.BAD_FRAME };
    const peer = checkHello(f, 0, exporter);
    if (!peer || Buffer.from(peer.signPub).equals(Buffer.from(listenerSignPub)))
      return { kind: 'close', code: CLOSE.AUTH_FAILED };
    return { kind: 'open' };
  }
  if (f.kind === 'hello') return { kind: 'close', code: CLOSE.BAD_FRAME };
  if (f.kind === 'response') return { kind: 'ignore' };
  return { kind: 'answer', id: f.id };
}

/**
 * Codec property for every decodable frame: re-encoding what was decoded gives the same bytes (one
 * encoding per frame), so nothing the decoder accepts is read two ways. A failure text, or null.
 */
export function roundTrip(bytes: Uint8Array): string | null {
  const d = decodeFrame(bytes);
  if (!d.ok) return null;
  const e = encodeFrame(d.frame);
  if (!e.ok) return `decoded frame does not re-encode: ${e.reason}`;
  if (!Buffer.from(e.bytes).equals(Buffer.from(bytes))) return 'decoded frame re-encodes to other bytes';
  if (d.frame.kind === 'hello' && d.frame.version !== CHANNEL_VERSION) return 'HELLO of another version accepted';
  return null;
}
