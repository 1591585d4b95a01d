/** Base64url (RFC 4648 §5, no padding) encoding of raw bytes. */
import { MeshError } from '../errors.ts';

const B64U_RE = /^[A-Za-z0-9_-]*$/;

/** Views any byte array as a Buffer without copying. */
export function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** Views a Buffer (or other byte view) as a plain Uint8Array without copying. */
export function asBytes(buf: Uint8Array | ArrayBuffer): Uint8Array {
  if (buf instanceof ArrayBuffer) return new Uint8Array(buf);
  return Object.getPrototypeOf(buf) === Uint8Array.prototype
    ? buf
    : new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

/** Encodes bytes as base64url without padding. */
export function toB64u(bytes: Uint8Array): string {
  return asBuffer(bytes).toString('base64url');
}

/**
 * True when `s` decodes as unpadded base64url: only the url-safe alphabet, and a length no encoder
 * produces is refused — a group of 4 characters carries 3 bytes, and its last 2 or 3 characters 1 or 2,
 * but a lone last character holds only 6 bits (length ≡ 1 mod 4). Validators of remote input use this
 * so that whatever they let through decodes without an exception (issue 12, finding 15).
 */
export function isB64uDecodable(s: unknown): s is string {
  return typeof s === 'string' && s.length % 4 !== 1 && B64U_RE.test(s);
}

/** Decodes unpadded base64url, or null when isB64uDecodable refuses it: for remote input, never throws. */
export function tryFromB64u(s: unknown): Uint8Array | null {
  return isB64uDecodable(s) ? asBytes(Buffer.from(s, 'base64url')) : null;
}

/** Decodes unpadded base64url; throws MeshError.invalidArgument on a bad character or impossible length. */
export function fromB64u(s: string): Uint8Array {
  const bytes = tryFromB64u(s);
  if (!bytes) throw MeshError.invalidArgument('not valid base64url');
  return bytes;
}
