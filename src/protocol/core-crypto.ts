/**
 * The keyed primitives the core runs on every request, as one injectable component. Real nodes (and
 * every default) use `REAL_CRYPTO`, the functions of src/crypto; the simulator may pass a cost-free
 * stand-in (src/sim/sim-crypto.ts) that keeps every length and every accept/refuse decision, which a
 * test checks by running the same simulation with both (test/integration/sim-crypto.test.ts).
 *
 * Only what the hot paths use is here (presence, IP searches, referrals, messages). Contact requests
 * and first contact keep calling src/crypto directly for their own boxes and signatures (both ends
 * of them then agree in every mode); the signing inputs they check come from here, like the ones
 * `send` and `respondOk` sign.
 *
 *   const core = new MeshCore(snapshot, { random, crypto: REAL_CRYPTO }, init, now);
 */
import {
  aeadOpen,
  aeadSeal,
  type BoxKeys,
  checkProof,
  computeProof,
  deriveLinkKey,
  messageKey,
  openSealed,
  type RequestProofFields,
  requestSigningInput,
  responseSigningInput,
  sealTo,
} from '../crypto/index.ts';
import { digestTransportKey } from './digest.ts';

/** Keyed primitives of the core (signatures as in src/crypto). */
export interface CoreCrypto {
  /** Symmetric link key of a contact pair (same on both ends). */
  deriveLinkKey(
    ownBoxPriv: Uint8Array,
    peerBoxPub: Uint8Array,
    secret: Uint8Array,
    ownUuid: string,
    peerUuid: string,
  ): Uint8Array;
  /** Directional message key for messages sent by `senderUuid` on a link. */
  messageKey(linkKey: Uint8Array, senderUuid: string): Uint8Array;
  /** The bytes a request's proof or signature covers (both ends of a request use the same function). */
  requestSigningInput(f: RequestProofFields): Uint8Array;
  /** The bytes a response's proof or signature covers. */
  responseSigningInput(requestId: string, observed: string, data: string): Uint8Array;
  /** Mesh-Secret / answer proof: 43 base64url characters. */
  computeProof(linkKey: Uint8Array, input: Uint8Array): string;
  /** Whether `proof` is `computeProof(linkKey, input)`; never throws. */
  checkProof(linkKey: Uint8Array, input: Uint8Array, proof: string): boolean;
  /** Seals to a recipient, authenticated as the sender; draws 32 random bytes. Output: 96 + plaintext bytes. */
  sealTo(
    sender: BoxKeys,
    recipientBoxPub: Uint8Array,
    plaintext: Uint8Array,
    aad: Uint8Array,
    random: (n: number) => Uint8Array,
  ): Uint8Array;
  /** Opens a sealed payload for `recipient`, or null; never throws. */
  openSealed(
    recipient: BoxKeys,
    sealed: Uint8Array,
    aad: Uint8Array,
  ): { plaintext: Uint8Array; senderBoxPub: Uint8Array } | null;
  /** AEAD: ciphertext ‖ 16-byte tag. */
  aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array;
  /** AEAD open, or null; never throws. */
  aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null;
  /** The key `from` seals its contact digests under on a link (digest.ts; 32 bytes). */
  digestTransportKey(linkKey: Uint8Array, from: string): Uint8Array;
}

/** The real primitives (src/crypto): what every node runs. */
export const REAL_CRYPTO: CoreCrypto = Object.freeze({
  deriveLinkKey,
  messageKey,
  requestSigningInput,
  responseSigningInput,
  computeProof,
  checkProof,
  sealTo,
  openSealed,
  aeadSeal,
  aeadOpen,
  digestTransportKey,
});
