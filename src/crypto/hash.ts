/** Hash helpers shared by the crypto module (SHA-256, HKDF-SHA256, UTF-8). */
import { createHash, hkdfSync } from 'node:crypto';
import { asBytes } from './b64u.ts';

const EMPTY = new Uint8Array(0);
const encoder = new TextEncoder();

/** UTF-8 encodes a string. */
export function utf8(s: string): Uint8Array {
  return encoder.encode(s);
}

/** SHA-256 digest of bytes. */
export function sha256(data: Uint8Array): Uint8Array {
  return asBytes(createHash('sha256').update(data).digest());
}

/** HKDF-SHA256 with the given ikm, salt and info; returns `length` bytes (default 32). */
export function hkdf(ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length = 32): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', ikm, salt ?? EMPTY, info, length));
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
