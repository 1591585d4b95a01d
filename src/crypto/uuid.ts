/** Node uuids: RFC 9562 UUIDv8 derived from the node's two public keys. */
import { concatBytes, sha256 } from './hash.ts';

/** Canonical uuid syntax: lower-case only (docs/PROTOCOL.md §6.1: `Mesh-From` and every uuid field are lower-case). */
const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

/** Derives the UUIDv8 of a node: first 16 bytes of SHA-256(signPub || boxPub), version 8, RFC variant. */
export function deriveUuid(signPub: Uint8Array, boxPub: Uint8Array): string {
  const h = sha256(concatBytes(signPub, boxPub)).subarray(0, 16);
  h[6] = (h[6] & 0x0f) | 0x80;
  h[8] = (h[8] & 0x3f) | 0x80;
  return uuidFromBytes(h);
}

/** True when `uuid` (lower-case, as every uuid on the wire) is the uuid derived from these keys. */
export function checkUuid(uuid: string, signPub: Uint8Array, boxPub: Uint8Array): boolean {
  try {
    return isUuid(uuid) && uuid === deriveUuid(signPub, boxPub);
  } catch {
    return false;
  }
}

/** True when `s` is a canonical uuid: 8-4-4-4-12 lower-case hex digits (the one uuid check of Mesh). */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID_RE.test(s);
}

/** The 16 bytes of a uuid string (assumes isUuid). */
export function uuidToBytes(uuid: string): Uint8Array {
  return new Uint8Array(Buffer.from(uuid.replace(/-/g, ''), 'hex'));
}

/** Formats 16 bytes as a lower-case uuid string. */
export function uuidFromBytes(b: Uint8Array): string {
  const x = Buffer.from(b.buffer, b.byteOffset, 16).toString('hex');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}
