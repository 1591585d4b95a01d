/** Sealing to a recipient's X25519 key, authenticated as the sender (what relays carry). */
import { aeadOpen, aeadSeal } from './aead.ts';
import { concatBytes, hkdf, utf8 } from './hash.ts';
import { type Random, x25519, x25519Public } from './keys.ts';

const EMPTY = new Uint8Array(0);
const ZERO_NONCE = new Uint8Array(12);
const LABEL_E = utf8('mesh-v1-seal-e');
const LABEL_S = utf8('mesh-v1-seal-s');
const HEAD = 32 + 32 + 16;

/** A box key pair (raw 32-byte X25519 keys). */
export interface BoxKeys {
  boxPriv: Uint8Array;
  boxPub: Uint8Array;
}

/** Seals plaintext to `recipientBoxPub`: ephPub(32) || AEAD(k_e, senderBoxPub)(48) || AEAD(k_s, plaintext, aad). */
export function sealTo(
  sender: BoxKeys,
  recipientBoxPub: Uint8Array,
  plaintext: Uint8Array,
  aad: Uint8Array,
  random: Random,
): Uint8Array {
  const ephPriv = random(32);
  const ephPub = x25519Public(ephPriv);
  const dh1 = x25519(ephPriv, recipientBoxPub, false, true);
  const kE = hkdf(dh1, EMPTY, concatBytes(LABEL_E, ephPub, recipientBoxPub));
  const encS = aeadSeal(kE, ZERO_NONCE, sender.boxPub, EMPTY);
  const dh2 = x25519(sender.boxPriv, recipientBoxPub);
  const kS = hkdf(concatBytes(dh1, dh2), EMPTY, concatBytes(LABEL_S, ephPub, sender.boxPub, recipientBoxPub));
  return concatBytes(ephPub, encS, aeadSeal(kS, ZERO_NONCE, plaintext, aad));
}

/** Opens a sealed payload; returns the plaintext and the authenticated sender box key, or null on any failure. */
export function openSealed(
  recipient: BoxKeys,
  sealed: Uint8Array,
  aad: Uint8Array,
): { plaintext: Uint8Array; senderBoxPub: Uint8Array } | null {
  try {
    if (sealed.length < HEAD + 16) return null;
    const ephPub = sealed.subarray(0, 32);
    const dh1 = x25519(recipient.boxPriv, ephPub, true, false);
    const kE = hkdf(dh1, EMPTY, concatBytes(LABEL_E, ephPub, recipient.boxPub));
    const senderBoxPub = aeadOpen(kE, ZERO_NONCE, sealed.subarray(32, HEAD), EMPTY);
    if (senderBoxPub?.length !== 32) return null;
    const dh2 = x25519(recipient.boxPriv, senderBoxPub);
    const kS = hkdf(concatBytes(dh1, dh2), EMPTY, concatBytes(LABEL_S, ephPub, senderBoxPub, recipient.boxPub));
    const plaintext = aeadOpen(kS, ZERO_NONCE, sealed.subarray(HEAD), aad);
    return plaintext ? { plaintext, senderBoxPub } : null;
  } catch {
    return null;
  }
}
