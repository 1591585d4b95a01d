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

/** Decodes unpadded base64url; throws MeshError.invalidArgument on a bad character or impossible length. */
export function fromB64u(s: string): Uint8Array {
  if (typeof s !== 'string' || s.length % 4 === 1 || !B64U_RE.test(s)) {
    throw MeshError.invalidArgument('not valid base64url');
  }
  return asBytes(Buffer.from(s, 'base64url'));
}
