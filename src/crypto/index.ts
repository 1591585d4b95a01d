/**
 * Mesh crypto: keys, uuids, link keys and proofs, AEAD, sealed boxes, invites and auth phrases.
 * Built on `node:crypto` only. Example:
 *
 *   import { generateKeyPairs, deriveUuid, deriveLinkKey, computeProof, requestSigningInput } from './crypto/index.ts';
 *   const me = generateKeyPairs(randomBytes);
 *   const uuid = deriveUuid(me.signPub, me.boxPub);
 *   const link = deriveLinkKey(me.boxPriv, peer.boxPub, secret, uuid, peerUuid);
 *   const proof = computeProof(link, requestSigningInput({ version: 1, type, from: uuid, id, ts, port, body }));
 */
export { aeadOpen, aeadSeal } from './aead.ts';
export { authPhrase } from './auth-phrase.ts';
export { fromB64u, isB64uDecodable, toB64u, tryFromB64u } from './b64u.ts';
export { concatBytes, hkdf, hmacSha256, sha256, utf8 } from './hash.ts';
export { KeyedHmacSha256 } from './hmac-keyed.ts';
export { decodeInvite, encodeInvite, type InviteCode, inviteId, inviteKey } from './invite.ts';
export {
  generateKeyPairs,
  type KeyPairs,
  keyPairsFromSeed,
  type Random,
  signEd25519,
  verifyEd25519,
  x25519,
  x25519Public,
} from './keys.ts';
export {
  checkProof,
  computeProof,
  deriveLinkKey,
  messageKey,
  type RequestProofFields,
  requestSigningInput,
  responseSigningInput,
} from './link.ts';
export { type BoxKeys, openSealed, sealTo } from './seal.ts';
export { checkUuid, deriveUuid, isUuid } from './uuid.ts';
export { WORDS } from './words.ts';
