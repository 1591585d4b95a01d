/** ChaCha20-Poly1305 AEAD (RFC 8439): ciphertext || 16-byte tag. */
import { createCipheriv, createDecipheriv } from 'node:crypto';
import { MeshError } from '../errors.ts';
import { asBytes } from './b64u.ts';

const TAG = 16;

/** Encrypts with ChaCha20-Poly1305 (32-byte key, 12-byte nonce); returns ciphertext || tag. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  if (key.length !== 32) throw MeshError.invalidArgument('AEAD key must be 32 bytes');
  if (nonce.length !== 12) throw MeshError.invalidArgument('AEAD nonce must be 12 bytes');
  const c = createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
  if (aad.length > 0) c.setAAD(aad, { plaintextLength: plaintext.length });
  const head = c.update(plaintext);
  const tail = c.final();
  const tag = c.getAuthTag();
  const out = new Uint8Array(head.length + tail.length + TAG);
  out.set(head, 0);
  out.set(tail, head.length);
  out.set(tag, head.length + tail.length);
  return out;
}

/** Decrypts ciphertext || tag; null on authentication failure or bad input, never throws. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | null {
  try {
    if (key.length !== 32 || nonce.length !== 12 || sealed.length < TAG) return null;
    const n = sealed.length - TAG;
    const d = createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG });
    d.setAuthTag(sealed.subarray(n));
    if (aad.length > 0) d.setAAD(aad, { plaintextLength: n });
    const head = d.update(sealed.subarray(0, n));
    const tail = d.final();
    return asBytes(tail.length === 0 ? head : Buffer.concat([head, tail]));
  } catch {
    return null;
  }
}
