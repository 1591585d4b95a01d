/** Pairwise link keys, request/response proofs (Mesh-Secret) and directional message keys. */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { MeshError } from '../errors.ts';
import { fromB64u, toB64u } from './b64u.ts';
import { hkdf, sha256, utf8 } from './hash.ts';
import { x25519 } from './keys.ts';

const EMPTY = new Uint8Array(0);

/** Symmetric link key: HKDF-SHA256(X25519(own, peer), salt = secret, info = "mesh-v1-link|" + sorted uuids). */
export function deriveLinkKey(
  ownBoxPriv: Uint8Array,
  peerBoxPub: Uint8Array,
  secret: Uint8Array,
  ownUuid: string,
  peerUuid: string,
): Uint8Array {
  const dh = x25519(ownBoxPriv, peerBoxPub);
  const [lo, hi] = ownUuid < peerUuid ? [ownUuid, peerUuid] : [peerUuid, ownUuid];
  return hkdf(dh, secret, utf8(`mesh-v1-link|${lo}|${hi}`));
}

/** Fields of a request covered by its proof. */
export interface RequestProofFields {
  version: number;
  type: string;
  from: string;
  id: string;
  ts: number;
  port: number | null;
  body: Uint8Array;
}

/** Canonical bytes a request proof covers (version, type, from, id, ts, port, SHA-256 of body). */
export function requestSigningInput(f: RequestProofFields): Uint8Array {
  return utf8(
    'mesh-v1-req\n' +
      f.version +
      '\n' +
      f.type +
      '\n' +
      f.from +
      '\n' +
      f.id +
      '\n' +
      f.ts +
      '\n' +
      (f.port ?? '') +
      '\n' +
      toB64u(sha256(f.body)),
  );
}

/** Canonical bytes a response proof covers (request id, observed address, SHA-256 of the data). */
export function responseSigningInput(requestId: string, observed: string, data: string): Uint8Array {
  return utf8('mesh-v1-resp\n' + requestId + '\n' + observed + '\n' + toB64u(sha256(utf8(data))));
}

/** Proof = base64url(HMAC-SHA256(linkKey, input)). */
export function computeProof(linkKey: Uint8Array, input: Uint8Array): string {
  return createHmac('sha256', linkKey).update(input).digest('base64url');
}

/** Constant-time proof check; false on bad length or encoding, never throws. */
export function checkProof(linkKey: Uint8Array, input: Uint8Array, proof: string): boolean {
  try {
    if (typeof proof !== 'string' || proof.length !== 43) return false;
    const got = fromB64u(proof);
    if (got.length !== 32) return false;
    const want = createHmac('sha256', linkKey).update(input).digest();
    return timingSafeEqual(want, got);
  } catch {
    return false;
  }
}

const MSG_CACHE_MAX = 1024;
const msgCache = new Map<string, Uint8Array>();

/** Directional message key for messages sent by `senderUuid`: HKDF(linkKey, info "mesh-v1-msg|" + uuid); memoised. */
export function messageKey(linkKey: Uint8Array, senderUuid: string): Uint8Array {
  if (linkKey.length !== 32) throw MeshError.invalidArgument('link key must be 32 bytes');
  const id = Buffer.from(linkKey.buffer, linkKey.byteOffset, 32).toString('latin1') + senderUuid;
  let k = msgCache.get(id);
  if (!k) {
    k = hkdf(linkKey, EMPTY, utf8(`mesh-v1-msg|${senderUuid}`));
    if (msgCache.size >= MSG_CACHE_MAX) msgCache.delete(msgCache.keys().next().value as string);
    msgCache.set(id, k);
  }
  return k.slice();
}
