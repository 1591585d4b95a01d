/** Hash helpers shared by the crypto module (SHA-256, HKDF-SHA256, UTF-8). */
import { createHash, createHmac } from 'node:crypto';
import { asBytes } from './b64u.ts';

const ZERO_SALT = new Uint8Array(32);

/** UTF-8 encodes a string. */
export function utf8(s: string): Uint8Array {
  return asBytes(Buffer.from(s, 'utf8'));
}

/** SHA-256 digest of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return asBytes(createHash('sha256').update(data).digest());
}

/** HKDF-SHA256 (RFC 5869) with the given ikm, salt (empty = zeros) and info; returns `length` bytes (default 32). */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  // Two HMACs for 32 bytes: measurably faster than hkdfSync, which builds a KeyObject per call.
  const prk = createHmac('sha256', salt.length === 0 ? ZERO_SALT : salt)
    .update(ikm)
    .digest();
  const out = new Uint8Array(length);
  let prev: Uint8Array = new Uint8Array(0);
  for (let i = 1, o = 0; o < length; i++) {
    prev = createHmac('sha256', prk)
      .update(prev)
      .update(info)
      .update(new Uint8Array([i]))
      .digest();
    out.set(prev.subarray(0, Math.min(32, length - o)), o);
    o += 32;
  }
  return out;
}

/** Concatenates byte arrays into a new Uint8Array. */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** HMAC-SHA256 of `data` under `key` (32 bytes). */
export function hmacSha256(key: Uint8Array, data: Uint8Array): Uint8Array {
  return asBytes(createHmac('sha256', key).update(data).digest());
}
