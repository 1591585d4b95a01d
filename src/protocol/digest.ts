/**
 * Contact digests (issue 11 item 1): a node tells each contact, inside its presence announce, a
 * Bloom filter of its own contacts' UUIDs, keyed so that only its contacts can test it. A searcher
 * then asks exactly the contacts whose digest names the target, one or two at a time.
 *
 * Keys: each node has one contact secret `cs`, derived from its private keys (nothing new stored)
 * and given to its contacts inside the digest. Filter elements are HMAC-SHA256(memberKey(cs), uuid), so a
 * holder of `cs` (a contact) can test UUIDs it knows; nobody else can test anything. The digest
 * travels AEAD-sealed under a key derived from the pair's link key, so relays and the transport see
 * only its length. Pure functions: no state, no clock (docs/PROTOCOL.md §14, vectors in §11).
 */
import { aeadOpen, aeadSeal, concatBytes, fromB64u, hkdf, KeyedHmacSha256, toB64u, utf8 } from '../crypto/index.ts';
import { DIGEST_BITS_PER_CONTACT, DIGEST_HASHES } from './constants.ts';
import type { SelfRecord } from './types.ts';

const EMPTY = new Uint8Array(0);
/** First byte of a digest payload: its format. */
export const DIGEST_FORMAT = 1;
/** Bytes before the filter: format(1) ‖ cs(32) ‖ hashes(1). */
const HEADER = 34;

/** A contact's digest as held by its contacts. */
export interface ContactDigest {
  /** The contact's contact secret (derives its member key and directory keys). */
  secret: Uint8Array;
  memberKey: Uint8Array;
  hashes: number;
  bits: Uint8Array;
}

/** Our contact secret: HKDF(signPriv ‖ boxPriv, ∅, "mesh-v1-contact-secret"). */
export function contactSecret(self: Pick<SelfRecord, 'signPriv' | 'boxPriv'>): Uint8Array {
  return hkdf(concatBytes(self.signPriv, self.boxPriv), EMPTY, utf8('mesh-v1-contact-secret'));
}

/** The key of a digest's filter elements: HKDF(cs, ∅, "mesh-v1-digest-member"). */
export function memberKey(cs: Uint8Array): Uint8Array {
  return hkdf(cs, EMPTY, utf8('mesh-v1-digest-member'));
}

/** Filter bits for `n` contacts: DIGEST_BITS_PER_CONTACT each, a multiple of 64, at least 64. */
export function filterBits(n: number): number {
  return Math.max(64, Math.ceil((n * DIGEST_BITS_PER_CONTACT) / 64) * 64);
}

/**
 * The element MAC under a member key, its pad states computed once per key: a digest's key MACs
 * every contact when built and every target tested against it (same bytes as `hmacSha256`).
 */
const keyed = new WeakMap<Uint8Array, KeyedHmacSha256>();
function keyedHmac(key: Uint8Array): KeyedHmacSha256 {
  let h = keyed.get(key);
  if (!h) keyed.set(key, (h = new KeyedHmacSha256(key)));
  return h;
}

function setPositions(
  key: Uint8Array,
  uuid: string,
  mBits: number,
  hashes: number,
  visit: (bit: number) => boolean,
): boolean {
  const e = keyedHmac(key).mac(utf8(uuid));
  for (let i = 0; i < hashes; i++) {
    const x = ((e[4 * i] << 24) | (e[4 * i + 1] << 16) | (e[4 * i + 2] << 8) | e[4 * i + 3]) >>> 0;
    if (!visit(x % mBits)) return false;
  }
  return true;
}

/** The digest payload over `uuids`: format ‖ cs ‖ hashes ‖ Bloom bits (bit b = byte b>>3, mask 1<<(b&7)). */
export function buildDigest(cs: Uint8Array, uuids: readonly string[]): Uint8Array {
  const mBits = filterBits(uuids.length);
  const out = new Uint8Array(HEADER + mBits / 8);
  out[0] = DIGEST_FORMAT;
  out.set(cs, 1);
  out[33] = DIGEST_HASHES;
  const key = memberKey(cs);
  const bits = out.subarray(HEADER);
  for (const u of uuids)
    setPositions(key, u, mBits, DIGEST_HASHES, (b) => {
      bits[b >> 3] |= 1 << (b & 7);
      return true;
    });
  return out;
}

/** Whether `payload` is a well-formed digest: what `parseDigest` accepts, without deriving its member key. */
export function isDigestPayload(payload: Uint8Array): boolean {
  if (payload.length < HEADER + 8 || payload[0] !== DIGEST_FORMAT) return false;
  const hashes = payload[33];
  return hashes >= 1 && hashes <= 8 && (payload.length - HEADER) % 8 === 0;
}

/** Parses a digest payload (null when malformed: unknown format, no filter, bad hash count). */
export function parseDigest(payload: Uint8Array): ContactDigest | null {
  if (!isDigestPayload(payload)) return null;
  const hashes = payload[33];
  const secret = payload.slice(1, 33);
  return { secret, memberKey: memberKey(secret), hashes, bits: payload.subarray(HEADER) };
}

/** True when the digest (probably) lists `uuid`; false means certainly not. */
export function digestHas(d: ContactDigest, uuid: string): boolean {
  const mBits = d.bits.length * 8;
  return setPositions(d.memberKey, uuid, mBits, d.hashes, (b) => (d.bits[b >> 3] & (1 << (b & 7))) !== 0);
}

/** A short version tag of a payload (8 bytes): whether a contact already holds our current digest. */
export function digestVersion(payload: Uint8Array): string {
  return toB64u(hkdf(payload, EMPTY, utf8('mesh-v1-digest-version'), 8));
}

/** The key `from` seals its digests under on a link: HKDF(linkKey, ∅, "mesh-v1-digest|"+from). */
export function digestTransportKey(linkKey: Uint8Array, from: string): Uint8Array {
  return hkdf(linkKey, EMPTY, utf8(`mesh-v1-digest|${from}`));
}

/**
 * The primitives of a digest's transport: the real ones by default; the core passes its crypto
 * component (core-crypto.ts), so the simulator's stand-in seals digests at no cost too.
 */
export interface DigestTransportCrypto {
  digestTransportKey(linkKey: Uint8Array, from: string): Uint8Array;
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null;
}

const REAL_TRANSPORT: DigestTransportCrypto = { digestTransportKey, aeadSeal, aeadOpen };
const transportAad = (from: string, to: string) => utf8(`mesh-v1-digest|${from}|${to}`);

/** The wire field: b64u(nonce(12) ‖ ChaCha20-Poly1305(HKDF(linkKey, ∅, "mesh-v1-digest|"+from), nonce, payload, aad)). */
export function sealDigest(
  linkKey: Uint8Array,
  from: string,
  to: string,
  payload: Uint8Array,
  nonce: Uint8Array,
  c: DigestTransportCrypto = REAL_TRANSPORT,
): string {
  return toB64u(
    concatBytes(nonce, c.aeadSeal(c.digestTransportKey(linkKey, from), nonce, payload, transportAad(from, to))),
  );
}

/** Opens the wire field sent by `from` to `to`; null when it does not open. */
export function openDigest(
  linkKey: Uint8Array,
  from: string,
  to: string,
  field: string,
  c: DigestTransportCrypto = REAL_TRANSPORT,
): Uint8Array | null {
  let raw: Uint8Array;
  try {
    raw = fromB64u(field);
  } catch {
    return null;
  }
  if (raw.length < 12 + 16) return null;
  return c.aeadOpen(c.digestTransportKey(linkKey, from), raw.subarray(0, 12), raw.subarray(12), transportAad(from, to));
}
